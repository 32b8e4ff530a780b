using System.Text.Json.Serialization;

namespace SpotDevBox.Backup.Format;

public enum NodeType
{
    File,
    Dir,
    Symlink,
}

/// <summary>The format versions this build reads; it writes <see cref="Current"/>.</summary>
public static class FormatVersion
{
    public const int Oldest = 1;

    /// <summary>
    /// 2: tree nodes hold no per-machine identity and name hard link groups by <see cref="Node.Link"/>. The newest
    /// unencrypted format: what an unencrypted repository is upgraded to.
    /// </summary>
    public const int Current = 2;

    /// <summary>3: version 2 encrypted and authenticated on the client, with keyed blob ids (docs/repository-format.md).</summary>
    public const int Encrypted = 3;

    public const int Newest = Encrypted;

    public static bool IsKnown(int version) => version is >= Oldest and <= Newest;
}

/// <summary>One entry of a directory. Times are nanoseconds since the Unix epoch, UTC.</summary>
public sealed record Node
{
    public required string Name { get; init; }
    public required NodeType Type { get; init; }
    /// <summary>Permission bits, setuid/setgid/sticky included (not the file type bits).</summary>
    public uint Mode { get; init; }
    public long MtimeNs { get; init; }

    // Version 1 only: identity on the machine that took the snapshot. Read for old snapshots (change
    // detection, inode-based hard links); never written now, so trees do not change with a restore.
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long CtimeNs { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public ulong Inode { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public ulong Device { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public ulong Links { get; init; }
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public string? User { get; init; }
    public string? Group { get; init; }
    public long Size { get; init; }
    /// <summary>File content: blob ids in order.</summary>
    public IReadOnlyList<BlobId>? Content { get; init; }
    /// <summary>Directory content: the id of its tree blob.</summary>
    public BlobId? Subtree { get; init; }
    /// <summary>Symlink target, stored verbatim and never followed.</summary>
    public string? Target { get; init; }
    /// <summary>The file changed while it was read: the content is what was read, which may mix old and new bytes.</summary>
    public bool ChangedDuringBackup { get; init; }
    /// <summary>A partial snapshot kept an older version of this file (see the snapshot's incomplete list).</summary>
    public bool Stale { get; init; }
    /// <summary>
    /// Hard link group (files only): entries of one snapshot with the same value are one file. The
    /// snapshot path of the group's first member in walk order, so it survives a restore unchanged.
    /// </summary>
    public string? Link { get; init; }

    /// <summary>While a backup runs: the device and inode of a file with other names, until its group is named.</summary>
    [JsonIgnore]
    internal (ulong Device, ulong Inode)? LinkKey { get; init; }

    /// <summary>While a backup runs: a directory whose tree waits for its hard link groups to be named.</summary>
    [JsonIgnore]
    internal Tree? PendingTree { get; init; }
}

public sealed record Tree(IReadOnlyList<Node> Nodes)
{
    /// <summary>
    /// Refuses what a hostile or broken manifest could use to escape the restore target or to make two
    /// entries fight over one path: empty names, '.', '..', separators, NUL, duplicates, and inconsistent nodes.
    /// </summary>
    public void Validate(string where)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in Nodes)
        {
            var name = node.Name;
            // '\\' is an ordinary byte in a POSIX file name and is allowed; restore runs on Linux.
            if (string.IsNullOrEmpty(name) || name is "." or ".." || name.Contains('/', StringComparison.Ordinal)
                || name.Contains('\0', StringComparison.Ordinal))
            {
                throw new InvalidDataException($"snapshot refused: entry name '{Printable(name)}' in '{where}' is not a plain file name");
            }

            if (!seen.Add(name))
            {
                throw new InvalidDataException($"snapshot refused: duplicate entry '{Printable(name)}' in '{where}'");
            }

            var ok = node.Type switch
            {
                NodeType.File => node.Content is not null && node.Subtree is null && node.Target is null && node.Size >= 0 && node.Link is null or { Length: > 0 },
                NodeType.Dir => node.Subtree is not null && node.Content is null && node.Target is null && node.Link is null,
                NodeType.Symlink => !string.IsNullOrEmpty(node.Target) && node.Content is null && node.Subtree is null && !node.Target.Contains('\0', StringComparison.Ordinal) && node.Link is null,
                _ => false,
            };
            if (!ok)
            {
                throw new InvalidDataException($"snapshot refused: entry '{Printable(name)}' in '{where}' is an inconsistent {node.Type}");
            }

            if ((node.Mode & ~0xFFFu) != 0)
            {
                throw new InvalidDataException($"snapshot refused: entry '{Printable(name)}' in '{where}' has invalid mode bits");
            }
        }
    }

    private static string Printable(string name) =>
        string.Concat(name.Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));
}

/// <summary>A snapshot manifest, stored at snapshots/&lt;sha256 of its bytes&gt;; written last, after everything it references is durable.</summary>
public sealed record SnapshotManifest
{
    public int Version { get; init; } = FormatVersion.Current;
    public required DateTimeOffset Time { get; init; }
    public required string Hostname { get; init; }
    public string? Username { get; init; }
    public required IReadOnlyList<string> Paths { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public IReadOnlyList<string> Excludes { get; init; } = [];
    public required BlobId Tree { get; init; }
    public BlobId? Parent { get; init; }
    /// <summary>True when the backup stopped at a deadline: files in <see cref="IncompleteFiles"/> are at an older version.</summary>
    public bool Partial { get; init; }
    public IReadOnlyList<string> IncompleteFiles { get; init; } = [];
    public IReadOnlyList<string> ChangedDuringBackup { get; init; } = [];
    public SnapshotSummary? Summary { get; init; }
}

public sealed record SnapshotSummary
{
    public long FilesNew { get; init; }
    public long FilesChanged { get; init; }
    public long FilesUnchanged { get; init; }
    public long DirsTotal { get; init; }
    public long BytesTotal { get; init; }
    public long BytesRead { get; init; }
    public long BytesAdded { get; init; }
    public long BytesUploaded { get; init; }
    public int PacksUploaded { get; init; }
    public long Skipped { get; init; }
    public double DurationSeconds { get; init; }
}

/// <summary>An index file's content, stored at index/&lt;sha256 of its bytes&gt; (zstd-compressed binary, see BackupRepository.EncodeIndex).</summary>
public sealed record IndexFile(int Version, IReadOnlyList<IndexPack> Packs);

public sealed record IndexPack(BlobId Id, long Size, IReadOnlyList<PackEntry> Blobs);

/// <summary>The repository's identity and the parameters every client must share, stored at "config".</summary>
public sealed record RepositoryConfig
{
    /// <summary>The newest format of any snapshot the repository may hold (see docs/repository-format.md, "config").</summary>
    public int Version { get; init; } = FormatVersion.Current;
    public required string Id { get; init; }
    public required DateTimeOffset Created { get; init; }
    public int ChunkMin { get; init; }
    public int ChunkAverage { get; init; }
    public int ChunkMax { get; init; }
}

public sealed record LockRecord
{
    public required string Hostname { get; init; }
    public required int Pid { get; init; }
    public required bool Exclusive { get; init; }
    public required string Operation { get; init; }
    public required DateTimeOffset Time { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    Converters = [typeof(BlobIdJsonConverter)])]
[JsonSerializable(typeof(Tree))]
[JsonSerializable(typeof(SnapshotManifest))]
[JsonSerializable(typeof(RepositoryConfig))]
[JsonSerializable(typeof(LockRecord))]
internal sealed partial class FormatJson : JsonSerializerContext;

internal sealed class BlobIdJsonConverter : JsonConverter<BlobId>
{
    public override BlobId Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
    {
        var text = reader.GetString();
        return BlobId.TryParse(text, out var id) ? id : throw new System.Text.Json.JsonException($"'{text}' is not a blob id");
    }

    public override void Write(System.Text.Json.Utf8JsonWriter writer, BlobId value, System.Text.Json.JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToHex());
    }
}
