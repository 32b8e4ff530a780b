using System.Text.Json;
using System.Text.Json.Serialization;
using SpotDevBox.Core.FileSystem;

namespace SpotDevBox.Core.Idle;

/// <summary>
/// The local lease written by "spotdevbox keepalive" on the box, as a small JSON document
/// ({"until": "...", "setBy": "...", "note": "..."}), replaced atomically so a reader sees the old lease or the
/// new one, never half of one. On a box it lives in <see cref="DirectoryName"/> under the agent's run directory:
/// root:spotdevbox, mode 2770, so root and the developer (a member of the spotdevbox group) may set one and
/// nobody else may. The root agent reads it as untrusted input: it opens only a regular file that it owns or
/// that the lease directory's group owns, without following a symbolic link or waiting on a FIFO, and at most
/// <see cref="MaxBytes"/> bytes of it; anything else is "unreadable", which counts as no lease.
/// </summary>
public sealed class LeaseFile(string path) : ILeaseSource
{
    /// <summary>The lease directory inside the agent's run directory.</summary>
    public const string DirectoryName = "lease";

    /// <summary>The largest lease file read; a real one is about 150 bytes.</summary>
    public const int MaxBytes = 4096;

    /// <summary>Mode of a lease file: the developer's group may replace or remove what root wrote, and the other way round.</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>Mode of a lease directory the writer had to create (the agent's unit makes it 2770 root:spotdevbox).</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute;

    public string Path { get; } = path;

    /// <summary>The lease file of the agent whose run directory is <paramref name="runDirectory"/>.</summary>
    public static LeaseFile InRunDirectory(string runDirectory) => new(System.IO.Path.Join(runDirectory, DirectoryName, "lease.json"));

    /// <returns>The lease in the file, or null when there is no file.</returns>
    /// <exception cref="LeaseUnreadableException">The file exists but is not a lease, or is not a file to trust.</exception>
    public Lease? Read()
    {
        if (!OperatingSystem.IsLinux())
        {
            // Leases are set on a box, and a box runs Linux; the checks below need its system calls.
            return null;
        }

        var text = ReadChecked();
        if (text is null)
        {
            return null;
        }

        LeaseDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(text, LeaseJsonContext.Default.LeaseDocument);
        }
        catch (JsonException e)
        {
            throw new LeaseUnreadableException($"lease file {Path} is not valid JSON: {e.Message}", e);
        }

        if (document?.Until is not { } until)
        {
            throw new LeaseUnreadableException($"lease file {Path} has no \"until\" time");
        }

        return new Lease(until, NullIfEmpty(document.SetBy), NullIfEmpty(document.Note));
    }

    private string? ReadChecked()
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        FileFacts? folder;
        try
        {
            folder = Posix.LinkStat(directory);
        }
        catch (IOException e)
        {
            throw new LeaseUnreadableException($"lease directory {directory} cannot be examined: {e.Message}", e);
        }

        if (folder is not { } dir)
        {
            return null;
        }

        if (!dir.IsDirectory || (dir.Mode & (uint)UnixFileMode.OtherWrite) != 0)
        {
            throw new LeaseUnreadableException($"lease directory {directory} is a {dir.TypeName} with mode {Convert.ToString(dir.Mode & 0xFFF, 8)}: only a directory others cannot write is trusted; recreate it as root:spotdevbox mode 2770");
        }

        using var handle = Posix.OpenNoFollowNonBlocking(Path, out var errno);
        if (handle is null)
        {
            if (errno == Posix.ENOENT)
            {
                return null;
            }

            throw new LeaseUnreadableException(errno == Posix.ELOOP
                ? $"lease file {Path} is a symbolic link: not followed"
                : $"lease file {Path} cannot be opened: errno {errno}");
        }

        var facts = Posix.Stat(handle);
        if (!facts.IsRegularFile)
        {
            throw new LeaseUnreadableException($"lease file {Path} is a {facts.TypeName}, not a regular file: ignored");
        }

        if (facts.Uid != 0 && facts.Uid != dir.Uid && facts.Gid != dir.Gid)
        {
            throw new LeaseUnreadableException($"lease file {Path} belongs to uid {facts.Uid}, gid {facts.Gid}: only root or the lease directory's group may set a lease");
        }

        if (facts.Size > MaxBytes)
        {
            throw new LeaseUnreadableException($"lease file {Path} has {facts.Size} bytes, more than a lease's {MaxBytes}: ignored");
        }

        var buffer = new byte[MaxBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = RandomAccess.Read(handle, buffer.AsSpan(length), length)) > 0)
        {
            length += read;
        }

        if (length > MaxBytes)
        {
            throw new LeaseUnreadableException($"lease file {Path} grew past a lease's {MaxBytes} bytes while read: ignored");
        }

        return System.Text.Encoding.UTF8.GetString(buffer, 0, length);
    }

    public ValueTask<Lease?> GetLeaseAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Read());

    public void Write(Lease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        if (!Directory.Exists(directory) && !OperatingSystem.IsWindows())
        {
            // Where no agent unit made it (a box set up by hand, a test): closed to others, as the unit makes it.
            Directory.CreateDirectory(directory, DirectoryMode);
            File.SetUnixFileMode(directory, DirectoryMode);
        }

        AtomicFile.Write(
            Path,
            stream => JsonSerializer.Serialize(stream, new LeaseDocument(lease.Until, lease.SetBy, lease.Note), LeaseJsonContext.Default.LeaseDocument),
            FileMode);
    }

    /// <returns>True when there was a lease file to remove.</returns>
    public bool Cancel()
    {
        if (!File.Exists(Path))
        {
            return false;
        }

        File.Delete(Path);
        return true;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

internal sealed record LeaseDocument(DateTimeOffset? Until, string? SetBy, string? Note);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LeaseDocument))]
internal sealed partial class LeaseJsonContext : JsonSerializerContext;
