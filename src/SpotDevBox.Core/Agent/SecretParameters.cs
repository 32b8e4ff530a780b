namespace SpotDevBox.Core.Agent;

/// <summary>What reading a secret parameter came to; <see cref="Value"/> only when <see cref="Outcome"/> is Found.</summary>
public enum SecretParameterOutcome
{
    Found,
    NotFound,
    AccessDenied,
    Failed,
}

/// <summary>
/// A secret parameter's value, or why there is none. <see cref="Reason"/> is safe to log: it never holds the value
/// (the adapter writes it from the error's code, not its message).
/// </summary>
public sealed record SecretParameter(SecretParameterOutcome Outcome, string? Value, string Reason)
{
    public override string ToString() => $"{Outcome}: {Reason}";
}

/// <summary>The box's secret parameters (SSM Parameter Store SecureStrings), read with the box's own role.</summary>
public interface ISecretParameters
{
    /// <summary>Reads and decrypts <paramref name="name"/>; never throws for a missing, refused or unreachable parameter.</summary>
    Task<SecretParameter> ReadAsync(string name, CancellationToken cancellationToken);
}
