using System.Text;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Tests.Boxes;

public sealed class AgentBuildManifestTests
{
    private const string X64Sha = "2f08284d847d6f434a7ef2df38bd04bad61d4e704e317f1b9da7449bda5d802a";
    private const string Arm64Sha = "0a564cbf77ff7cd968690c642c56bbd6cbb2e58a125a01bd26a370407fe4e6c6";

    // As 'spotdevbox agent publish' writes it (docs in deploy/README.md).
    private const string Published = $$"""
        {
          "version": "1.0.0-955fb36e7b27-20261127T230053Z",
          "published_at": "2026-11-27T23:00:53.1234567+00:00",
          "builds": [
            { "rid": "linux-x64", "architecture": "x86_64", "key": "1.0.0-955fb36e7b27-20261127T230053Z/spotdevbox-linux-x64.tar.gz", "sha256": "{{X64Sha}}", "size": 50023503 },
            { "rid": "linux-arm64", "architecture": "arm64", "key": "1.0.0-955fb36e7b27-20261127T230053Z/spotdevbox-linux-arm64.tar.gz", "sha256": "{{Arm64Sha}}", "size": 46896718 }
          ]
        }
        """;

    private static AgentBuildManifest Parse(string json) => AgentBuildManifest.Parse(Encoding.UTF8.GetBytes(json), "s3://my-bucket/agent/manifest.json");

    [Fact]
    public void Parse_PublishedManifest_ReadsEveryField()
    {
        var manifest = Parse(Published);

        Assert.Equal("1.0.0-955fb36e7b27-20261127T230053Z", manifest.Version);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 23, 0, 53, TimeSpan.Zero).AddTicks(1234567), manifest.PublishedAt);
        Assert.Equal(new AgentBuild("linux-arm64", "arm64", "1.0.0-955fb36e7b27-20261127T230053Z/spotdevbox-linux-arm64.tar.gz", Arm64Sha, 46896718), manifest.Builds[1]);
    }

    [Theory]
    [InlineData(CpuArchitecture.X64, "spotdevbox/agent/1.0.0-955fb36e7b27-20261127T230053Z/spotdevbox-linux-x64.tar.gz", X64Sha)]
    [InlineData(CpuArchitecture.Arm64, "spotdevbox/agent/1.0.0-955fb36e7b27-20261127T230053Z/spotdevbox-linux-arm64.tar.gz", Arm64Sha)]
    public void ArtifactFor_EachArchitecture_IsTheBucketKeyUnderThePrefixAndTheSha256(CpuArchitecture architecture, string key, string sha256)
    {
        var artifact = Parse(Published).ArtifactFor(architecture, "my-bucket", "spotdevbox/agent");

        Assert.Equal(new AgentArtifact("my-bucket", key, sha256, architecture), artifact);
    }

    [Fact]
    public void ArtifactFor_PrefixWithSlashes_JoinsWithOneSlash()
    {
        var artifact = Parse(Published).ArtifactFor(CpuArchitecture.X64, "my-bucket", "/agent/");

        Assert.Equal("agent/1.0.0-955fb36e7b27-20261127T230053Z/spotdevbox-linux-x64.tar.gz", artifact.Key);
    }

    [Fact]
    public void ArtifactFor_NoBuildForTheArchitecture_SaysWhatTheManifestHasAndHowToPublishIt()
    {
        var onlyX64 = $$"""
            { "version": "v7", "published_at": "2026-11-27T23:00:53Z",
              "builds": [ { "rid": "linux-x64", "architecture": "x86_64", "key": "v7/spotdevbox-linux-x64.tar.gz", "sha256": "{{X64Sha}}", "size": 1 } ] }
            """;

        var e = Assert.Throws<AgentBuildException>(() => Parse(onlyX64).ArtifactFor(CpuArchitecture.Arm64, "my-bucket", "agent"));

        Assert.Equal(
            "s3://my-bucket/agent/manifest.json (version v7) has no agent build for arm64 (it has: x86_64); publish one with scripts/publish-agent --rid linux-arm64",
            e.Message);
    }

    [Fact]
    public void ArtifactFor_NoBuildsAtAll_SaysNone()
    {
        var e = Assert.Throws<AgentBuildException>(() =>
            Parse("""{ "version": "v1", "published_at": "2026-11-27T23:00:53Z", "builds": [] }""").ArtifactFor(CpuArchitecture.X64, "my-bucket", "agent"));

        Assert.Contains("has no agent build for x86_64 (it has: none)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ArtifactFor_ABuildOfAnArchitectureNotKnownHere_IsPassedOver()
    {
        var withRiscV = $$"""
            { "version": "v2", "published_at": "2026-11-27T23:00:53Z", "builds": [
              { "rid": "linux-riscv64", "architecture": "riscv64", "key": "v2/spotdevbox-linux-riscv64.tar.gz", "sha256": "{{Arm64Sha}}", "size": 1 },
              { "rid": "linux-x64", "architecture": "x86_64", "key": "v2/spotdevbox-linux-x64.tar.gz", "sha256": "{{X64Sha}}", "size": 1 } ] }
            """;

        Assert.Equal("agent/v2/spotdevbox-linux-x64.tar.gz", Parse(withRiscV).ArtifactFor(CpuArchitecture.X64, "my-bucket", "agent").Key);
    }

    [Fact]
    public void ArtifactFor_TwoBuildsForOneArchitecture_Throws()
    {
        var twice = $$"""
            { "version": "v3", "published_at": "2026-11-27T23:00:53Z", "builds": [
              { "rid": "linux-x64", "architecture": "x86_64", "key": "v3/a.tar.gz", "sha256": "{{X64Sha}}", "size": 1 },
              { "rid": "linux-x64", "architecture": "x86_64", "key": "v3/b.tar.gz", "sha256": "{{X64Sha}}", "size": 1 } ] }
            """;

        var e = Assert.Throws<AgentBuildException>(() => Parse(twice).ArtifactFor(CpuArchitecture.X64, "my-bucket", "agent"));

        Assert.Equal("s3://my-bucket/agent/manifest.json (version v3) lists 2 agent builds for x86_64; a manifest has one per architecture", e.Message);
    }

    [Theory]
    [InlineData("../other/spotdevbox.tar.gz", X64Sha, "key must be a key relative to the manifest")]
    [InlineData("/v1/spotdevbox.tar.gz", X64Sha, "key must be a key relative to the manifest")]
    [InlineData("v1/spotdevbox linux.tar.gz", X64Sha, "key must be a key relative to the manifest")]
    [InlineData("v1/spotdevbox-linux-x64.tar.gz", "2F08284D847D6F434A7EF2DF38BD04BAD61D4E704E317F1B9DA7449BDA5D802A", "sha256 must be 64 lower-case hex digits")]
    [InlineData("v1/spotdevbox-linux-x64.tar.gz", "2f08284d", "sha256 must be 64 lower-case hex digits")]
    public void ArtifactFor_KeyOrSha256ThatCannotBePinned_Throws(string key, string sha256, string expected)
    {
        var json = $$"""
            { "version": "v1", "published_at": "2026-11-27T23:00:53Z",
              "builds": [ { "rid": "linux-x64", "architecture": "x86_64", "key": "{{key}}", "sha256": "{{sha256}}", "size": 1 } ] }
            """;

        var e = Assert.Throws<AgentBuildException>(() => Parse(json).ArtifactFor(CpuArchitecture.X64, "my-bucket", "agent"));

        Assert.Contains("the x86_64 build's " + expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("""{ "version": "v1", "published_at": "2026-11-27T23:00:53Z" }""")]
    [InlineData("""{ "version": null, "published_at": "2026-11-27T23:00:53Z", "builds": [] }""")]
    [InlineData("""{ "version": "v1", "published_at": "2026-11-27T23:00:53Z", "builds": [ { "rid": "linux-x64" } ] }""")]
    public void Parse_NotAManifest_ThrowsNamingTheObject(string json)
    {
        var e = Assert.Throws<AgentBuildException>(() => Parse(json));

        Assert.StartsWith("s3://my-bucket/agent/manifest.json is not an agent builds manifest", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rids_AreTheTwoLinuxRuntimesWithTheirArchitectures() =>
        Assert.Equal(
            [new("linux-arm64", CpuArchitecture.Arm64), new("linux-x64", CpuArchitecture.X64)],
            AgentBuildManifest.Rids.OrderBy(r => r.Key, StringComparer.Ordinal));
}
