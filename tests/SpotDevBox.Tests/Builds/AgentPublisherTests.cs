using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Builds;
using SpotDevBox.Core.Compute;
using SpotDevBox.Tests.Cli;
using TestSupport;

namespace SpotDevBox.Tests.Builds;

/// <summary>The order of the writes: every build before the manifest, and no manifest when a build did not get up.</summary>
public sealed class AgentPublisherTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-publisher-");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 23, 0, 53, TimeSpan.Zero));

    [Fact]
    public async Task PublishAsync_TwoBuilds_PutsBothBuildsAndThenTheManifest()
    {
        var store = new RecordingStore(new LocalDirectoryObjectStore(_temp.Sub("out")));
        Directory.CreateDirectory(_temp.Sub("out"));

        var published = await new AgentPublisher(_time).PublishAsync(store, "v1", await BuildsAsync(), CancellationToken.None);

        Assert.Equal(["v1/spotdevbox-linux-x64.tar.gz", "v1/spotdevbox-linux-arm64.tar.gz", "manifest.json"], store.Puts);
        Assert.Equal(_time.GetUtcNow(), published.Manifest.PublishedAt);
        Assert.Equal($"{_temp.Sub("out")}/manifest.json", published.ManifestLocation);
    }

    [Fact]
    public async Task PublishAsync_ABuildFailsToUpload_NoManifestIsWritten()
    {
        var store = new RecordingStore(new LocalDirectoryObjectStore(_temp.Sub("out"))) { FailOn = "v1/spotdevbox-linux-arm64.tar.gz" };
        Directory.CreateDirectory(_temp.Sub("out"));

        var builds = await BuildsAsync();

        await Assert.ThrowsAsync<StorageException>(() => new AgentPublisher(_time).PublishAsync(store, "v1", builds, CancellationToken.None));

        Assert.Equal(["v1/spotdevbox-linux-x64.tar.gz"], store.Puts);
        Assert.False(File.Exists(Path.Combine(_temp.Sub("out"), "manifest.json")));
    }

    [Fact]
    public async Task PublishAsync_FileChangedAfterItWasChecked_NothingOfItIsUploaded()
    {
        var store = new RecordingStore(new LocalDirectoryObjectStore(_temp.Sub("out")));
        Directory.CreateDirectory(_temp.Sub("out"));
        var builds = await BuildsAsync();
        AgentBuildFiles.Build(builds[0].Path, AgentBuildFiles.X64, marker: "rebuilt meanwhile");

        var e = await Assert.ThrowsAsync<IOException>(() => new AgentPublisher(_time).PublishAsync(store, "v1", builds, CancellationToken.None));

        Assert.StartsWith($"{builds[0].Path} changed after it was checked", e.Message, StringComparison.Ordinal);
        Assert.Empty(store.Puts);
    }

    [Fact]
    public void DefaultVersion_IsTheInformationalVersionWithTheCommitShortenedAndTheUtcTime()
    {
        var version = new AgentPublisher(_time).DefaultVersion();

        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9a-f]{1,12})?-20261127T230053Z$", version);
        Assert.Null(AgentPublisher.CheckVersion(version));
    }

    public void Dispose() => _temp.Dispose();

    private async Task<IReadOnlyList<InspectedBuild>> BuildsAsync() =>
    [
        await AgentArchive.InspectAsync("linux-x64", AgentBuildFiles.Build(_temp.Sub("x64.tar.gz"), AgentBuildFiles.X64), CancellationToken.None),
        await AgentArchive.InspectAsync("linux-arm64", AgentBuildFiles.Build(_temp.Sub("arm64.tar.gz"), AgentBuildFiles.Arm64), CancellationToken.None),
    ];

    /// <summary>A real store that remembers the order of the puts that succeeded, and can fail one.</summary>
    private sealed class RecordingStore(IObjectStore inner) : IObjectStore
    {
        public List<string> Puts { get; } = [];

        public string? FailOn { get; init; }

        public string Location => inner.Location;

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
        {
            if (key == FailOn)
            {
                throw new StorageException(StorageFailure.Unreachable, $"{key}: the connection dropped");
            }

            await inner.PutAsync(key, content, cancellationToken);
            Puts.Add(key);
        }

        public Task<byte[]> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

        public Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken) => inner.GetRangeAsync(key, offset, length, cancellationToken);

        public Task ReadRangeAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken) => inner.ReadRangeAsync(key, offset, destination, cancellationToken);

        public Task<long?> GetSizeAsync(string key, CancellationToken cancellationToken) => inner.GetSizeAsync(key, cancellationToken);

        public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var o in inner.ListAsync(prefix, cancellationToken))
            {
                yield return o;
            }
        }

        public Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken) => inner.DeleteAsync(keys, cancellationToken);

        public Task<VersionedObject?> GetVersionedAsync(string key, CancellationToken cancellationToken) => inner.GetVersionedAsync(key, cancellationToken);

        public Task<bool> PutIfAsync(string key, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken) =>
            inner.PutIfAsync(key, content, expectedETag, cancellationToken);
    }
}
