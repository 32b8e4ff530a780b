using System.Collections.Concurrent;
using System.Text;
using SpotDevBox.Core.FileSystem;

namespace SpotDevBox.Core.Tests.FileSystem;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class AtomicFileTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("spotdevbox-atomic-");

    public void Dispose() => _directory.Delete(recursive: true);

    private string Target => Path.Join(_directory.FullName, "status.json");

    /// <summary>64 KiB of one letter: a reader that saw half a write would see two letters or a short file.</summary>
    private static byte[] Content(int writer) => Encoding.ASCII.GetBytes(new string((char)('a' + (writer % 26)), 64 * 1024));

    [Fact]
    public void TemporaryName_ManyCalls_AllDifferentAndBesideTheTarget()
    {
        var names = Enumerable.Range(0, 1000).Select(_ => AtomicFile.TemporaryName(Target)).ToList();

        Assert.Equal(1000, names.Distinct().Count());
        Assert.All(names, n => Assert.Equal(_directory.FullName, Path.GetDirectoryName(n)));
        Assert.All(names, n => Assert.StartsWith(".status.json.", Path.GetFileName(n), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Write_SixteenConcurrentWriters_EachSucceedsAndTheFileIsOneWholeWriteWithNoTemporaryLeft()
    {
        var errors = new ConcurrentBag<Exception>();

        await Task.WhenAll(Enumerable.Range(0, 16).Select(w => Task.Run(() =>
        {
            for (var round = 0; round < 10; round++)
            {
                try
                {
                    AtomicFile.Write(Target, Content(w), AtomicFile.WorldReadable);
                }
                catch (IOException e)
                {
                    errors.Add(e);
                }
            }
        })));

        Assert.Empty(errors);
        var bytes = await File.ReadAllBytesAsync(Target);
        Assert.Equal(64 * 1024, bytes.Length);
        Assert.Single(bytes.Distinct());
        Assert.Equal(["status.json"], _directory.GetFiles().Select(f => f.Name));
    }

    [Fact]
    public async Task Write_ReaderBesideWriters_NeverSeesAPartialFile()
    {
        AtomicFile.Write(Target, Content(0), AtomicFile.WorldReadable);
        using var stop = new CancellationTokenSource();
        var partial = 0;
        var reads = 0;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var bytes = File.ReadAllBytes(Target);
                reads++;
                if (bytes.Length != 64 * 1024 || bytes.Distinct().Count() != 1)
                {
                    partial++;
                }
            }
        });

        await Task.WhenAll(Enumerable.Range(1, 4).Select(w => Task.Run(() =>
        {
            for (var round = 0; round < 25; round++)
            {
                AtomicFile.Write(Target, Content(w), AtomicFile.WorldReadable);
            }
        })));
        await stop.CancelAsync();
        await reader;

        Assert.True(reads > 0);
        Assert.Equal(0, partial);
    }

    [Fact]
    public void Write_WriterFails_TemporaryRemovedAndOldContentKept()
    {
        AtomicFile.Write(Target, "old"u8, AtomicFile.WorldReadable);

        var error = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(Target, stream =>
        {
            stream.Write("half of the n"u8);
            throw new InvalidOperationException("serializer failed");
        }, AtomicFile.WorldReadable));

        Assert.Equal("serializer failed", error.Message);
        Assert.Equal("old", File.ReadAllText(Target));
        Assert.Equal(["status.json"], _directory.GetFiles().Select(f => f.Name));
    }

    [Fact]
    public async Task WriteAsync_CustomSuffixAndCancelled_TemporaryRemovedAndNoTarget()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            AtomicFile.WriteAsync(Target, new byte[1024], AtomicFile.OwnerOnly, cancelled.Token, ".tmp-spotdevbox"));

        Assert.Empty(_directory.GetFiles());
    }

    [Theory]
    [InlineData(0b110_100_000)] // 0640
    [InlineData(0b110_000_000)] // 0600
    [InlineData(0b110_110_110)] // 0666: more than a 022 umask lets through
    public void Write_Mode_IsExactlyTheModeGivenWhateverTheUmask(int mode)
    {
        AtomicFile.Write(Target, "x"u8, (UnixFileMode)mode);

        Assert.Equal((UnixFileMode)mode, File.GetUnixFileMode(Target));
    }

    [Fact]
    public void Write_OverSymbolicLink_ReplacesTheLinkNotItsTarget()
    {
        var elsewhere = Path.Join(_directory.FullName, "elsewhere");
        File.WriteAllText(elsewhere, "precious");
        File.CreateSymbolicLink(Target, elsewhere);

        AtomicFile.Write(Target, "new"u8, AtomicFile.WorldReadable);

        Assert.Equal("precious", File.ReadAllText(elsewhere));
        Assert.Null(new FileInfo(Target).LinkTarget);
        Assert.Equal("new", File.ReadAllText(Target));
    }
}
