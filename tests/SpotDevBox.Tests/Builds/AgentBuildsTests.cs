using SpotDevBox.Backup.Storage;
using SpotDevBox.Builds;
using SpotDevBox.Core.Compute;
using SpotDevBox.Tests.Cli;
using TestSupport;

namespace SpotDevBox.Tests.Builds;

/// <summary>AgentBuilds.ResolveAsync against the S3 peer: what a launch pins, from what 'agent publish' wrote.</summary>
[Collection("s3-controller")]
public sealed class AgentBuildsTests(S3PeerFixture peer) : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-agent-builds-");

    [Fact]
    public async Task ResolveAsync_PublishedBothArchitectures_EachIsTheBucketKeyAndSha256OfItsFile()
    {
        var bucket = peer.NewBucketName("builds");
        await peer.CreateBucketAsync(bucket);
        var x64 = AgentBuildFiles.Build(_temp.Sub("x64.tar.gz"), AgentBuildFiles.X64);
        var arm64 = AgentBuildFiles.Build(_temp.Sub("arm64.tar.gz"), AgentBuildFiles.Arm64);
        await PublishAsync($"s3://{bucket}/spotdevbox/agent", "v1", "--build", "linux-x64=" + x64, "--build", "linux-arm64=" + arm64);
        using var store = Store($"s3://{bucket}/spotdevbox/agent");

        var forX64 = await AgentBuilds.ResolveAsync(store, CpuArchitecture.X64, CancellationToken.None);
        var forArm64 = await AgentBuilds.ResolveAsync(store, CpuArchitecture.Arm64, CancellationToken.None);

        Assert.Equal(new Core.Boxes.AgentArtifact(bucket, "spotdevbox/agent/v1/spotdevbox-linux-x64.tar.gz", AgentBuildFiles.Sha256(x64), CpuArchitecture.X64), forX64);
        Assert.Equal(new Core.Boxes.AgentArtifact(bucket, "spotdevbox/agent/v1/spotdevbox-linux-arm64.tar.gz", AgentBuildFiles.Sha256(arm64), CpuArchitecture.Arm64), forArm64);
    }

    [Fact]
    public async Task ResolveAsync_NoBuildForTheArchitecture_SaysSoNamingTheManifest()
    {
        var bucket = peer.NewBucketName("builds");
        await peer.CreateBucketAsync(bucket);
        await PublishAsync($"s3://{bucket}/agent", "v1", "--build", "linux-x64=" + AgentBuildFiles.Build(_temp.Sub("x64.tar.gz"), AgentBuildFiles.X64));
        using var store = Store($"s3://{bucket}/agent");

        var e = await Assert.ThrowsAsync<Core.Boxes.AgentBuildException>(() => AgentBuilds.ResolveAsync(store, CpuArchitecture.Arm64, CancellationToken.None));

        Assert.Equal($"s3://{bucket}/agent/manifest.json (version v1) has no agent build for arm64 (it has: x86_64); publish one with scripts/publish-agent --rid linux-arm64", e.Message);
    }

    [Fact]
    public async Task ResolveAsync_NothingPublished_SaysToPublishFirst()
    {
        var bucket = peer.NewBucketName("builds");
        await peer.CreateBucketAsync(bucket);
        using var store = Store($"s3://{bucket}/agent");

        var e = await Assert.ThrowsAsync<Core.Boxes.AgentBuildException>(() => AgentBuilds.ResolveAsync(store, CpuArchitecture.X64, CancellationToken.None));

        Assert.Equal($"no agent build at s3://{bucket}/agent (there is no s3://{bucket}/agent/manifest.json): run 'scripts/publish-agent --to s3://{bucket}/agent' first (it builds the agent and runs 'spotdevbox agent publish')", e.Message);
    }

    [Fact]
    public async Task ResolveAsync_LocalDirectory_RefusedBecauseABoxDownloadsFromS3()
    {
        var e = await Assert.ThrowsAsync<Core.Boxes.AgentBuildException>(() =>
            AgentBuilds.ResolveAsync(new LocalDirectoryObjectStore(_temp.Path), CpuArchitecture.X64, CancellationToken.None));

        Assert.Equal($"the agent builds are at {_temp.Path}: a box downloads its agent from S3, publish to s3://bucket/prefix", e.Message);
    }

    public void Dispose() => _temp.Dispose();

    private Aws.Storage.S3ObjectStore Store(string prefix) => Aws.Storage.S3ObjectStoreFactory.Create(
        RepositoryLocation.Parse(prefix), new Aws.Storage.S3StoreOptions(peer.Endpoint, S3PeerFixture.Region, null), S3PeerFixture.Credentials, _ => null, _ => null);

    private async Task PublishAsync(string to, string version, params string[] builds)
    {
        var cli = new SpotDevBoxProcess(_temp.Sub("cli"), peer).Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint);
        var result = await cli.RunAsync(["agent", "publish", "--to", to, "--agent-version", version, .. builds]);
        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
