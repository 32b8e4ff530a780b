namespace SpotDevBox.Core.Idle;

/// <summary>
/// The directory /proc, /run and /dev are read under: "/" on a box, a fixture tree in tests.
/// </summary>
public sealed class HostRoot
{
    public HostRoot(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = global::System.IO.Path.GetFullPath(path);
    }

    /// <summary>The real machine: "/".</summary>
    public static HostRoot Default { get; } = new("/");

    public string Path { get; }

    /// <summary>The host path "/a/b" under this root.</summary>
    public string Resolve(string hostPath) => global::System.IO.Path.Join(Path, hostPath.TrimStart('/'));
}
