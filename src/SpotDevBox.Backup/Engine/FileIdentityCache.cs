using System.Text.Json;
using System.Text.Json.Serialization;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Engine;

/// <summary>
/// What this machine knows about files it restored or backed up: for each path, the identity the file
/// had (inode, ctime, size, mtime) and its content. Trees hold no inode or ctime (they would differ on
/// every machine and make every tree new after a restore), so this record is what lets a backup skip
/// a file: a restore records what it wrote, a backup what it read or found unchanged. A file replaced
/// by another with the same size and mtime has another inode or ctime and is read; without the record
/// (another machine, a wiped cache) every file is read. Each backup or restore replaces what the
/// record held under its paths, so it holds one generation per place, not one per run.
/// Stored per repository in the local cache as zstd-compressed JSON (the file name predates backups recording too).
/// </summary>
internal sealed class FileIdentityCache
{
    private const string FileName = "restored-files.json.zst";
    private readonly Dictionary<string, RestoredFile> _files;

    private FileIdentityCache(Dictionary<string, RestoredFile> files) => _files = files;

    public int Count => _files.Count;

    public static FileIdentityCache Load(string cacheDirectory)
    {
        var path = Path.Combine(cacheDirectory, FileName);
        try
        {
            if (File.Exists(path))
            {
                // Streamed: the record of a large tree is megabytes of JSON, which whole arrays would
                // put on the large object heap at every backup and restore, twice (compressed and not).
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
                using var json = new ZstdSharp.DecompressionStream(file);
                var files = JsonSerializer.Deserialize(json, IdentityJson.Default.DictionaryStringRestoredFile);
                if (files is not null)
                {
                    return new FileIdentityCache(files); // string keys: compared ordinally by default
                }
            }
        }
        catch (Exception e) when (e is IOException or JsonException or ZstdSharp.ZstdException or UnauthorizedAccessException)
        {
            // A damaged record only costs a full read; never a wrong backup.
        }

        return new FileIdentityCache(new Dictionary<string, RestoredFile>(StringComparer.Ordinal));
    }

    /// <summary>The content of <paramref name="path"/> if its identity is exactly what the restore left.</summary>
    public IReadOnlyList<BlobId>? TryMatch(string path, FileStatus st) =>
        _files.TryGetValue(path, out var f) && f.Inode == st.Inode && f.CtimeNs == st.CtimeNs && f.MtimeNs == st.MtimeNs && f.Size == st.Size
            ? f.Content
            : null;

    /// <summary>Forgets <paramref name="root"/> and what is under it: the record of one place is replaced, never piled up.</summary>
    public void ForgetUnder(string root)
    {
        var exact = Path.TrimEndingDirectorySeparator(root);
        var prefix = exact + "/";
        foreach (var path in _files.Keys.Where(k => k == exact || k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            _files.Remove(path);
        }
    }

    public void Record(string path, FileStatus st, IReadOnlyList<BlobId> content) =>
        _files[path] = new RestoredFile(st.Inode, st.CtimeNs, st.MtimeNs, st.Size, content);

    public void Save(string cacheDirectory)
    {
        Directory.CreateDirectory(cacheDirectory);
        var path = Path.Combine(cacheDirectory, FileName);
        Core.FileSystem.AtomicFile.Write(path, stream =>
        {
            using var json = new ZstdSharp.CompressionStream(stream, level: 3, leaveOpen: true);
            JsonSerializer.Serialize(json, _files, IdentityJson.Default.DictionaryStringRestoredFile);
        }, Core.FileSystem.AtomicFile.OwnerOnly);
    }
}

internal sealed record RestoredFile(ulong Inode, long CtimeNs, long MtimeNs, long Size, IReadOnlyList<BlobId> Content);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, Converters = [typeof(BlobIdJsonConverter)])]
[JsonSerializable(typeof(Dictionary<string, RestoredFile>))]
internal sealed partial class IdentityJson : JsonSerializerContext;
