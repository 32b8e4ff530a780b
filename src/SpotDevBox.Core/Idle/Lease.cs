using System.Globalization;

namespace SpotDevBox.Core.Idle;

/// <summary>An explicit promise to keep the box up until <paramref name="Until"/>, whatever the other signals say.</summary>
public sealed record Lease(DateTimeOffset Until, string? SetBy, string? Note)
{
    /// <summary>The longest lease: "spotdevbox keepalive" refuses more, and whoever reads a lease cuts a longer one to this.</summary>
    public static readonly TimeSpan MaxLength = TimeSpan.FromDays(7);

    public bool IsActiveAt(DateTimeOffset now) => now < Until;

    /// <summary>This lease, ending at most <see cref="MaxLength"/> after <paramref name="now"/>.</summary>
    public Lease ClampedAt(DateTimeOffset now) => Until > now + MaxLength ? this with { Until = now + MaxLength } : this;

    /// <summary>"lease until 17:30 UTC (set by alice: 'training run')"; the date is shown when it is not the day of <paramref name="now"/>.</summary>
    public string Describe(DateTimeOffset now)
    {
        var until = Until.ToUniversalTime();
        var when = until.Date == now.ToUniversalTime().Date
            ? until.ToString("HH:mm", CultureInfo.InvariantCulture)
            : until.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        var by = (SetBy, Note) switch
        {
            ({ Length: > 0 } who, { Length: > 0 } note) => $" (set by {who}: '{note}')",
            ({ Length: > 0 } who, _) => $" (set by {who})",
            (_, { Length: > 0 } note) => $" ('{note}')",
            _ => "",
        };
        return $"lease until {when} UTC{by}";
    }
}

/// <summary>
/// Where the current lease comes from. The agent merges the local lease file ("spotdevbox keepalive" on the
/// box) with the lease in the remote control document, and answers with the one that lasts longer.
/// </summary>
public interface ILeaseSource
{
    /// <returns>The current lease, expired or not, or null when none was set.</returns>
    /// <exception cref="LeaseUnreadableException">A lease exists but cannot be read; the lease signal treats it as no lease.</exception>
    ValueTask<Lease?> GetLeaseAsync(CancellationToken cancellationToken);
}

public sealed class LeaseUnreadableException : Exception
{
    public LeaseUnreadableException()
    {
    }

    public LeaseUnreadableException(string message)
        : base(message)
    {
    }

    public LeaseUnreadableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
