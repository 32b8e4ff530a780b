using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Format;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // the record is owner-only (POSIX modes)
/// <summary>The identity record is written and read as a stream; whatever is wrong with it costs a full read, never a wrong match.</summary>
public sealed class FileIdentityCacheTests : IDisposable
{
    private readonly TempDir _temp = new();

    private static FileStatus StatusOf(int i) =>
        new(FileKind.RegularFile, Convert.ToUInt32("644", 8), 1000, 1000, Size: 100 + i, Inode: (ulong)(5000 + i), Device: 1, LinkCount: 1, MtimeNs: 1_700_000_000_000_000_000 + i, CtimeNs: 1_700_000_001_000_000_000 + i);

    private string RecordPath => Path.Combine(_temp.Path, "restored-files.json.zst");

    [Fact]
    public void SaveThenLoad_ManyFiles_EachMatchesOnlyItsOwnIdentity()
    {
        // Enough paths that the record is megabytes of JSON: it crosses every buffer boundary of the streams.
        var cache = FileIdentityCache.Load(_temp.Path);
        const int Files = 20_000;
        for (var i = 0; i < Files; i++)
        {
            cache.Record($"/home/dev/src/dir{i % 97}/file-{i}.cs", StatusOf(i), [BlobId.Compute(BitConverter.GetBytes(i)), BlobId.Compute(BitConverter.GetBytes(-i))]);
        }

        cache.Save(_temp.Path);
        var loaded = FileIdentityCache.Load(_temp.Path);

        Assert.Equal(Files, loaded.Count);
        Assert.Equal([BlobId.Compute(BitConverter.GetBytes(12_345)), BlobId.Compute(BitConverter.GetBytes(-12_345))], loaded.TryMatch("/home/dev/src/dir26/file-12345.cs", StatusOf(12_345)));
        Assert.Null(loaded.TryMatch("/home/dev/src/dir26/file-12345.cs", StatusOf(12_346)));
        Assert.Null(loaded.TryMatch("/home/dev/src/dir26/FILE-12345.cs", StatusOf(12_345)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(RecordPath));
    }

    public static TheoryData<string> Damage => ["garbage", "truncated", "not-json", "empty"];

    [Theory]
    [MemberData(nameof(Damage))]
    public void Load_DamagedRecord_IsEmptyNotAnError(string damage)
    {
        var cache = FileIdentityCache.Load(_temp.Path);
        cache.Record("/home/dev/a.txt", StatusOf(1), [BlobId.Compute([1])]);
        cache.Save(_temp.Path);
        var saved = File.ReadAllBytes(RecordPath);
        File.WriteAllBytes(RecordPath, damage switch
        {
            "garbage" => [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7))],
            "truncated" => saved[..(saved.Length / 2)],
            "not-json" => new ZstdSharp.Compressor(3).Wrap("{\"/home/dev/a.txt\": ["u8).ToArray(),
            _ => [],
        });

        var loaded = FileIdentityCache.Load(_temp.Path);

        Assert.Equal(0, loaded.Count);
        Assert.Null(loaded.TryMatch("/home/dev/a.txt", StatusOf(1)));
    }

    public void Dispose() => _temp.Dispose();
}
