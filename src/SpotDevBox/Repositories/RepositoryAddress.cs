namespace SpotDevBox.Repositories;

/// <summary>
/// Where a repository is and how to open it: what <see cref="RepositoryOpener"/> reads. The repository verbs'
/// settings carry it from the command line; the agent and the controller name a location alone.
/// </summary>
internal interface IRepositoryAddress
{
    /// <summary>s3://bucket/prefix, file:///path or a directory path.</summary>
    string? Repository { get; }

    string? EndpointUrl { get; }

    string? Region { get; }

    string? KmsKeyId { get; }

    string? PasswordFile { get; }

    string? PasswordCommand { get; }

    /// <summary>OWNER/BOX: open through KMS with that box's encryption context instead of a passphrase.</summary>
    string? Box { get; }

    string? CacheDirectory { get; }
}

/// <summary>A location and nothing else: the storage settings (and a passphrase source, if asked for one) apply.</summary>
internal sealed record RepositoryAddress(string Repository) : IRepositoryAddress
{
    public string? EndpointUrl => null;

    public string? Region => null;

    public string? KmsKeyId => null;

    public string? PasswordFile => null;

    public string? PasswordCommand => null;

    public string? Box => null;

    public string? CacheDirectory => null;
}
