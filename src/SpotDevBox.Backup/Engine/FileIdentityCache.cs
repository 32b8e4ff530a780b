using System.Text.Json;
using System.Text.Json.Serialization;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Engine;

/// <summary>
/// What a restore wrote on this machine: for each file, the identity it had right after the write
/// (inode, ctime, size, mtime) and the content it was given. A fresh box restores its work and then
/// backs up; without this record its first backup would read the whole tree again, because inode
/// and ctime differ from the snapshot taken on the previous box.
/// Stored per repository in the local cache as zstd-compressed JSON.
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
                using var decompressor = new ZstdSharp.Decompressor();
                var json = decompressor.Unwrap(File.ReadAllBytes(path)).ToArray();
                var files = JsonSerializer.Deserialize(json, IdentityJson.Default.DictionaryStringRestoredFile);
                if (files is not null)
                {
                    return new FileIdentityCache(new Dictionary<string, RestoredFile>(files, StringComparer.Ordinal));
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

    /// <summary>Forgets what an earlier restore wrote under <paramref name="root"/>: the record of one target is replaced, never piled up.</summary>
    public void ForgetUnder(string root)
    {
        var prefix = Path.TrimEndingDirectorySeparator(root) + "/";
        foreach (var path in _files.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
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
        var json = JsonSerializer.SerializeToUtf8Bytes(_files, IdentityJson.Default.DictionaryStringRestoredFile);
        using var compressor = new ZstdSharp.Compressor(3);
        var temp = path + ".tmp" + Environment.ProcessId;
        File.WriteAllBytes(temp, compressor.Wrap(json).ToArray());
        File.Move(temp, path, overwrite: true);
    }
}

internal sealed record RestoredFile(ulong Inode, long CtimeNs, long MtimeNs, long Size, IReadOnlyList<BlobId> Content);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, Converters = [typeof(BlobIdJsonConverter)])]
[JsonSerializable(typeof(Dictionary<string, RestoredFile>))]
internal sealed partial class IdentityJson : JsonSerializerContext;
