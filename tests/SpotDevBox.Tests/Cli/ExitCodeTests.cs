using System.Net;
using System.Net.Sockets;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// The documented exit codes of the real CLI process (0 ok, 1 failure at run time, 2 invalid
/// arguments or configuration), each failure with one plain "spotdevbox: ..." line on stderr that
/// names what is wrong, and nothing on stdout for a script to misread.
/// </summary>
[Collection("s3-crash")]
public sealed class ExitCodeTests : IDisposable
{
    private readonly S3PeerFixture _peer;
    private readonly TempDir _temp = new("spotdevbox-cli-");
    private readonly SpotDevBoxProcess _cli;

    public ExitCodeTests(S3PeerFixture peer)
    {
        _peer = peer;
        _cli = new SpotDevBoxProcess(_temp.Sub("state"), peer);
    }

    [Fact]
    public async Task Backup_UnknownFlag_ExitsTwoNamingTheFlag()
    {
        var source = SmallTree("src");

        var result = await _cli.RunAsync("backup", "--repo", _temp.Sub("repo"), "--init", "--no-such-flag", source);

        AssertOneLineError(result, 2, "unknown option '--no-such-flag' for 'backup'");
        Assert.False(Directory.Exists(_temp.Sub("repo")));
    }

    [Fact]
    public async Task Backup_PathThatDoesNotExist_ExitsTwoNamingThePathAndCreatesNothing()
    {
        var missing = _temp.Sub("not-there");

        var result = await _cli.RunAsync("backup", "--repo", _temp.Sub("repo"), "--init", missing);

        AssertOneLineError(result, 2, "'" + missing + "'", "does not exist");
        Assert.False(Directory.Exists(_temp.Sub("repo")));
    }

    [Fact]
    public async Task Backup_NoRepoOptionNorVariable_ExitsTwoSayingHowToGiveOne()
    {
        var source = SmallTree("src");

        // SpotDevBoxProcess never passes SPOTDEVBOX_REPOSITORY on, so nothing names a repository.
        var result = await _cli.RunAsync("backup", source);

        AssertOneLineError(result, 2, "no repository given", "--repo", "SPOTDEVBOX_REPOSITORY");
    }

    [Fact]
    public async Task Restore_NonEmptyTargetWithoutOverwrite_ExitsTwoAndLeavesTheTargetAlone()
    {
        var repo = await LocalRepositoryWithOneSnapshotAsync();
        var target = TargetHoldingAFileOfTheSnapshot();
        var before = TreeComparer.Describe(target);

        var result = await _cli.RunAsync("restore", "--repo", repo, "--target", target);

        AssertOneLineError(result, 2, "'" + target + "'", "is not empty", "--overwrite");
        Assert.Equal(before, TreeComparer.Describe(target));
    }

    [Fact]
    public async Task Restore_DeleteWithoutOverwrite_ExitsTwoAndLeavesTheTargetAlone()
    {
        var repo = await LocalRepositoryWithOneSnapshotAsync();
        var target = TargetHoldingAFileOfTheSnapshot();
        var before = TreeComparer.Describe(target);

        var result = await _cli.RunAsync("restore", "--repo", repo, "--target", target, "--delete");

        AssertOneLineError(result, 2, "--delete needs --overwrite");
        Assert.Equal(before, TreeComparer.Describe(target));
    }

    [Fact]
    public async Task Backup_ReadConcurrencyZeroFromEnvironment_ExitsTwoNamingTheSettingAndCreatesNothing()
    {
        var source = SmallTree("src");

        var result = await _cli.RunAsync(
            ["backup", "--repo", _temp.Sub("repo"), "--init", source],
            new Dictionary<string, string?> { ["SPOTDEVBOX_Backup__ReadConcurrency"] = "0" });

        AssertOneLineError(result, 2, "invalid configuration", "Backup:ReadConcurrency", "got 0");
        Assert.False(Directory.Exists(_temp.Sub("repo")));
    }

    [Fact]
    public async Task Backup_UnknownSettingFromEnvironment_ExitsTwoNamingTheSettingAndCreatesNothing()
    {
        var source = SmallTree("src");

        var result = await _cli.RunAsync(
            ["backup", "--repo", _temp.Sub("repo"), "--init", source],
            new Dictionary<string, string?> { ["SPOTDEVBOX_Backup__UploadConcurency"] = "3" });

        AssertOneLineError(result, 2, "invalid configuration", "UploadConcurency");
        Assert.False(Directory.Exists(_temp.Sub("repo")));
    }

    [Fact]
    public async Task Backup_EndpointOnAClosedLocalPort_ExitsOneNamingTheEndpointWithinTwentySeconds()
    {
        var source = SmallTree("src");
        var endpoint = $"http://127.0.0.1:{ClosedPort()}";

        var result = await _cli.RunAsync("backup", "--repo", "s3://some-bucket/repo", "--endpoint-url", endpoint, source);

        AssertOneLineError(result, 1, "cannot reach", endpoint);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(20), $"took {result.Elapsed}");
    }

    [Theory]
    [InlineData("init")]
    [InlineData("snapshots")]
    [InlineData("check")]
    [InlineData("backup")]
    public async Task AnyVerb_BucketMissingOnThePeer_ExitsTwoNamingTheBucket(string verb)
    {
        var bucket = _peer.NewBucketName("missing");
        List<string> args = [verb, "--repo", $"s3://{bucket}/repo", "--endpoint-url", _peer.Endpoint];
        if (verb == "backup")
        {
            args.AddRange(["--init", SmallTree("src")]);
        }

        var result = await _cli.RunAsync([.. args], new Dictionary<string, string?>());

        AssertOneLineError(result, 2, $"bucket '{bucket}' does not exist");
    }

    [Fact]
    public async Task Snapshots_EmptyDirectory_ExitsTwoSayingThereIsNoRepository()
    {
        var empty = Directory.CreateDirectory(_temp.Sub("empty")).FullName;

        var result = await _cli.RunAsync("snapshots", "--repo", empty);

        AssertOneLineError(result, 2, "there is no repository", empty, "spotdevbox init");
    }

    [Fact]
    public async Task Snapshots_DirectoryThatDoesNotExist_ExitsTwoNamingIt()
    {
        var missing = _temp.Sub("nowhere");

        var result = await _cli.RunAsync("snapshots", "--repo", missing);

        AssertOneLineError(result, 2, "'" + missing + "'", "does not exist");
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task Snapshots_BucketWithoutRepositoryUnderThePrefix_ExitsTwoSayingThereIsNoRepository()
    {
        var bucket = _peer.NewBucketName("norepo");
        await _peer.CreateBucketAsync(bucket);

        var result = await _cli.RunAsync("snapshots", "--repo", $"s3://{bucket}/repo", "--endpoint-url", _peer.Endpoint);

        AssertOneLineError(result, 2, "there is no repository", bucket);
    }

    // Wrong credentials cannot be shown against the peer: fauxqs accepts any access key and does not
    // check signatures (an unsigned request succeeds too), so "wrong key" there is indistinguishable
    // from the right one. The mapping of InvalidAccessKeyId/SignatureDoesNotMatch/AccessDenied to
    // StorageFailure.AccessDenied is covered by S3ErrorMapperTests.Map_CredentialOrPermissionError_IsAccessDenied
    // in SpotDevBox.Aws.Tests, and the CLI maps every StorageException but a missing bucket to 1.
    // What the peer can show is the run-time path for credentials that are absent altogether:
    [Fact]
    public async Task Snapshots_NoCredentialsAnywhere_ExitsOneSayingSo()
    {
        var bucket = _peer.NewBucketName("nocreds");
        await _peer.CreateBucketAsync(bucket);

        var result = await _cli.RunAsync(
            ["snapshots", "--repo", $"s3://{bucket}/repo", "--endpoint-url", _peer.Endpoint],
            new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = null, ["AWS_SECRET_ACCESS_KEY"] = null });

        AssertOneLineError(result, 1, "no usable AWS credentials", $"s3://{bucket}/repo");
    }

    [Theory]
    [InlineData("init", new[] { "--repo", "--endpoint-url", "--region", "--kms-key-id", "--history-days", "--json" })]
    [InlineData("recover", new[] { "--repo", "--as-of", "--dry-run", "--json" })]
    [InlineData("backup", new[] { "<PATH>", "--repo", "--exclude", "--tag", "--host", "--parent", "--init", "--json" })]
    [InlineData("restore", new[] { "--repo", "--snapshot", "--target", "--include", "--overwrite", "--delete" })]
    [InlineData("snapshots", new[] { "--repo", "--json", "--verbose" })]
    [InlineData("forget", new[] { "--repo", "--keep-last", "--keep-daily", "--keep-weekly", "--keep-within", "--prune", "--dry-run" })]
    [InlineData("prune", new[] { "--repo", "--dry-run" })]
    [InlineData("check", new[] { "--repo", "--read-data", "--json" })]
    [InlineData("unlock", new[] { "--repo", "--cache-dir" })]
    [InlineData("migrate", new[] { "--repo", "--password-file", "--box", "--json" })]
    public async Task Help_EachVerb_ExitsZeroAndListsItsOptions(string verb, string[] options)
    {
        var result = await _cli.RunAsync(verb, "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"spotdevbox {verb}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--help", result.Stdout, StringComparison.Ordinal);
        foreach (var option in options)
        {
            Assert.Contains(option, result.Stdout, StringComparison.Ordinal);
        }

        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Help_NoVerb_ExitsZeroAndListsEveryVerb()
    {
        var result = await _cli.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var verb in new[] { "init", "backup", "restore", "snapshots", "forget", "prune", "check", "unlock", "migrate" })
        {
            Assert.Contains("    " + verb + " ", result.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Backup_Json_PrintsOnlyParseableJsonWithTheSnapshotIdAndSummary()
    {
        var bucket = _peer.NewBucketName("json");
        await _peer.CreateBucketAsync(bucket);
        var source = _temp.Sub("work");
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        await File.WriteAllTextAsync(Path.Combine(source, "a.txt"), "hello\n");
        await File.WriteAllBytesAsync(Path.Combine(source, "sub", "b.bin"), [.. Enumerable.Range(0, 1000).Select(i => (byte)(i * 7))]);
        await File.WriteAllBytesAsync(Path.Combine(source, "sub", "c.txt"), []);
        var repo = $"s3://{bucket}/repo";

        var result = await _cli.RunAsync("backup", "--repo", repo, "--endpoint-url", _peer.Endpoint, "--init", "--json", source);

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        var id = json.GetProperty("snapshot_id").GetString()!;
        Assert.Matches("^[0-9a-f]{64}$", id);
        Assert.Equal([source], json.GetProperty("paths").EnumerateArray().Select(p => p.GetString()));
        var summary = json.GetProperty("summary");
        Assert.Equal(3, summary.GetProperty("files_new").GetInt64());
        Assert.Equal(0, summary.GetProperty("files_changed").GetInt64());
        Assert.Equal(0, summary.GetProperty("files_unchanged").GetInt64());
        // work/ and work/sub/
        Assert.Equal(2, summary.GetProperty("dirs_total").GetInt64());
        // 6 + 1000 + 0 bytes
        Assert.Equal(1006, summary.GetProperty("bytes_total").GetInt64());
        Assert.Equal(1006, summary.GetProperty("bytes_read").GetInt64());
        Assert.True(summary.GetProperty("bytes_uploaded").GetInt64() > 0);
        Assert.Empty(json.GetProperty("warnings").EnumerateArray());

        var listed = await _cli.RunAsync("snapshots", "--repo", repo, "--endpoint-url", _peer.Endpoint, "--json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Equal([id], listed.Json().EnumerateArray().Select(s => s.GetProperty("id").GetString()));
    }

    public void Dispose() => _temp.Dispose();

    private static void AssertOneLineError(CliResult result, int exitCode, params string[] words)
    {
        Assert.True(result.ExitCode == exitCode, $"expected exit {exitCode}; {result}");
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("spotdevbox: ", line, StringComparison.Ordinal);
        foreach (var word in words)
        {
            Assert.Contains(word, line, StringComparison.Ordinal);
        }

        Assert.Empty(result.Stdout);
    }

    private string SmallTree(string name)
    {
        var root = _temp.Sub(name);
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "notes.txt"), "remember the milk\n");
        return root;
    }

    private async Task<string> LocalRepositoryWithOneSnapshotAsync()
    {
        var repo = _temp.Sub("repo");
        var result = await _cli.RunAsync("backup", "--repo", repo, "--init", SmallTree("src"));
        Assert.True(result.ExitCode == 0, result.ToString());
        return repo;
    }

    /// <summary>A target where a restore would have overwritten src/notes.txt: a change would show.</summary>
    private string TargetHoldingAFileOfTheSnapshot()
    {
        var target = _temp.Sub("target");
        Directory.CreateDirectory(Path.Combine(target, "src"));
        File.WriteAllText(Path.Combine(target, "src", "notes.txt"), "my own notes, not the snapshot's\n");
        File.WriteAllText(Path.Combine(target, "keep.txt"), "not in the snapshot\n");
        return target;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
