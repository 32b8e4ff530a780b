using System.Formats.Tar;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Amazon.S3.Model;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>spotdevbox agent publish: checked builds under PREFIX/VERSION/, then PREFIX/manifest.json, to S3 or a directory.</summary>
[Collection("s3-crash")]
public sealed class AgentPublishTests(S3PeerFixture peer) : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-publish-");

    private SpotDevBoxProcess Cli() => new SpotDevBoxProcess(_temp.Sub("cli"), peer).Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint);

    [Fact]
    public async Task Publish_LocalDirectory_EachBuildUnderTheVersionAndAManifestNamingThem()
    {
        var x64 = AgentBuildFiles.Build(_temp.Sub("x64.tar.gz"), AgentBuildFiles.X64);
        var arm64 = AgentBuildFiles.Build(_temp.Sub("arm64.tar.gz"), AgentBuildFiles.Arm64);
        var target = _temp.Sub("agent-builds");
        var before = TimeProvider.System.GetUtcNow();

        var result = await Cli().RunAsync("agent", "publish", "--to", target, "--build", "linux-x64=" + x64, "--build", "linux-arm64=" + arm64, "--agent-version", "2026.11.1");
        var after = TimeProvider.System.GetUtcNow();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            ["2026.11.1/spotdevbox-linux-arm64.tar.gz", "2026.11.1/spotdevbox-linux-x64.tar.gz", "manifest.json"],
            Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(target, f)).Order(StringComparer.Ordinal));
        Assert.Equal(await File.ReadAllBytesAsync(x64), await File.ReadAllBytesAsync(Path.Combine(target, "2026.11.1", "spotdevbox-linux-x64.tar.gz")));
        Assert.Equal(await File.ReadAllBytesAsync(arm64), await File.ReadAllBytesAsync(Path.Combine(target, "2026.11.1", "spotdevbox-linux-arm64.tar.gz")));

        using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(target, "manifest.json")));
        var root = manifest.RootElement;
        Assert.Equal("2026.11.1", root.GetProperty("version").GetString());
        Assert.InRange(root.GetProperty("published_at").GetDateTimeOffset(), before.AddSeconds(-1), after.AddSeconds(1));
        var builds = root.GetProperty("builds").EnumerateArray().ToList();
        Assert.Equal(2, builds.Count);
        AssertBuild(builds[0], "linux-x64", "x86_64", "2026.11.1/spotdevbox-linux-x64.tar.gz", x64);
        AssertBuild(builds[1], "linux-arm64", "arm64", "2026.11.1/spotdevbox-linux-arm64.tar.gz", arm64);

        Assert.Contains($"{target}/2026.11.1/spotdevbox-linux-x64.tar.gz", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"sha256 {AgentBuildFiles.Sha256(x64)}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"sha256 {AgentBuildFiles.Sha256(arm64)}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{target}/manifest.json", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Publish_S3_BuildsThenTheManifestInTheBucket()
    {
        var bucket = peer.NewBucketName("publish");
        await peer.CreateBucketAsync(bucket);
        var x64 = AgentBuildFiles.Build(_temp.Sub("x64.tar.gz"), AgentBuildFiles.X64);
        var arm64 = AgentBuildFiles.Build(_temp.Sub("arm64.tar.gz"), AgentBuildFiles.Arm64);

        var result = await Cli().RunAsync("agent", "publish", "--to", $"s3://{bucket}/spotdevbox/agent",
            "--build", "linux-x64=" + x64, "--build", "linux-arm64=" + arm64, "--agent-version", "v1");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var s3 = peer.CreateClient();
        var listed = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        Assert.Equal(
            ["spotdevbox/agent/manifest.json", "spotdevbox/agent/v1/spotdevbox-linux-arm64.tar.gz", "spotdevbox/agent/v1/spotdevbox-linux-x64.tar.gz"],
            listed.S3Objects.Select(o => o.Key).Order(StringComparer.Ordinal));
        var manifestObject = listed.S3Objects.Single(o => o.Key.EndsWith("manifest.json", StringComparison.Ordinal));
        Assert.All(listed.S3Objects, o => Assert.True(o.LastModified <= manifestObject.LastModified, $"{o.Key} is newer than the manifest"));

        Assert.Equal(AgentBuildFiles.Sha256(x64), AgentBuildFiles.Sha256(await GetAsync(s3, bucket, "spotdevbox/agent/v1/spotdevbox-linux-x64.tar.gz")));
        Assert.Equal(AgentBuildFiles.Sha256(arm64), AgentBuildFiles.Sha256(await GetAsync(s3, bucket, "spotdevbox/agent/v1/spotdevbox-linux-arm64.tar.gz")));
        using var manifest = JsonDocument.Parse(await GetAsync(s3, bucket, "spotdevbox/agent/manifest.json"));
        var builds = manifest.RootElement.GetProperty("builds").EnumerateArray().ToList();
        AssertBuild(builds[0], "linux-x64", "x86_64", "v1/spotdevbox-linux-x64.tar.gz", x64);
        AssertBuild(builds[1], "linux-arm64", "arm64", "v1/spotdevbox-linux-arm64.tar.gz", arm64);
        Assert.Contains($"s3://{bucket}/spotdevbox/agent/v1/spotdevbox-linux-arm64.tar.gz", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_NoVersion_VersionIsTheExecutablesVersionAndCommitAndTheUtcTime()
    {
        var x64 = AgentBuildFiles.Build(_temp.Sub("x64.tar.gz"), AgentBuildFiles.X64);
        var target = _temp.Sub("agent-builds");
        var before = TimeProvider.System.GetUtcNow();

        var result = await Cli().RunAsync("agent", "publish", "--to", target, "--build", "linux-x64=" + x64, "--json");
        var after = TimeProvider.System.GetUtcNow();

        Assert.True(result.ExitCode == 0, result.ToString());
        var version = result.Json().GetProperty("version").GetString()!;
        var match = System.Text.RegularExpressions.Regex.Match(version, @"^\d+\.\d+\.\d+(-[0-9a-f]{1,12})?-(?<time>\d{8}T\d{6}Z)$");
        Assert.True(match.Success, version);
        var time = DateTimeOffset.ParseExact(match.Groups["time"].Value, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.InRange(time, before.AddSeconds(-1), after);
        Assert.True(File.Exists(Path.Combine(target, version, "spotdevbox-linux-x64.tar.gz")));
    }

    public static TheoryData<string, string> NotAgentBuilds => new()
    {
        { "not-gzip", "not a gzip file" },
        { "gzip-not-tar", "not a gzip-compressed tar archive" },
        { "truncated", "not a gzip-compressed tar archive" },
        { "empty-tar", "an empty tar archive" },
        { "no-spotdevbox", "no 'spotdevbox' at the top of the archive" },
        { "spotdevbox-in-a-folder", "no 'spotdevbox' at the top of the archive" },
        { "spotdevbox-is-a-folder", "'./spotdevbox/' is a Directory entry, not the executable file" },
        { "not-executable", "'./spotdevbox' is not executable (mode 644)" },
        { "not-elf", "'./spotdevbox' is not a 64-bit Linux (ELF) executable" },
        { "other-architecture", "'./spotdevbox' is built for arm64, not x86_64" },
        { "escapes", "the entry '../spotdevbox' would unpack outside the agent's directory" },
    };

    [Theory]
    [MemberData(nameof(NotAgentBuilds))]
    public async Task Publish_NotAnAgentBuild_Exit2NamingTheFileAndNothingWritten(string kind, string expected)
    {
        var good = AgentBuildFiles.Build(_temp.Sub("arm64.tar.gz"), AgentBuildFiles.Arm64);
        var bad = NotAnAgentBuild(kind, _temp.Sub(kind + ".tar.gz"));
        var target = _temp.Sub("agent-builds");

        // The good build comes first: nothing is uploaded until every build passed.
        var result = await Cli().RunAsync("agent", "publish", "--to", target, "--build", "linux-arm64=" + good, "--build", "linux-x64=" + bad, "--agent-version", "v1");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"spotdevbox: --build linux-x64={bad}: {expected}", result.Stderr.Trim(), StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        Assert.False(Directory.Exists(target), "the target was created");
    }

    [Fact]
    public async Task Publish_NotAnAgentBuild_S3_Exit2AndTheBucketStaysEmpty()
    {
        var bucket = peer.NewBucketName("publish");
        await peer.CreateBucketAsync(bucket);
        var good = AgentBuildFiles.Build(_temp.Sub("x64.tar.gz"), AgentBuildFiles.X64);
        var nested = NotAnAgentBuild("spotdevbox-in-a-folder", _temp.Sub("nested.tar.gz"));

        var result = await Cli().RunAsync("agent", "publish", "--to", $"s3://{bucket}/agent", "--build", "linux-x64=" + good, "--build", "linux-arm64=" + nested);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no 'spotdevbox' at the top of the archive", result.Stderr, StringComparison.Ordinal);
        using var s3 = peer.CreateClient();
        Assert.Empty((await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket })).S3Objects ?? []);
    }

    [Fact]
    public async Task Publish_VersionAlreadyPublished_Exit2AndNothingReplaced()
    {
        var first = AgentBuildFiles.Build(_temp.Sub("first.tar.gz"), AgentBuildFiles.X64, marker: "first");
        var second = AgentBuildFiles.Build(_temp.Sub("second.tar.gz"), AgentBuildFiles.X64, marker: "second");
        var target = _temp.Sub("agent-builds");
        var cli = Cli();
        Assert.Equal(0, (await cli.RunAsync("agent", "publish", "--to", target, "--build", "linux-x64=" + first, "--agent-version", "v1")).ExitCode);
        var manifest = await File.ReadAllBytesAsync(Path.Combine(target, "manifest.json"));

        var result = await cli.RunAsync("agent", "publish", "--to", target, "--build", "linux-x64=" + second, "--agent-version", "v1");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"spotdevbox: {target}/v1/spotdevbox-linux-x64.tar.gz already exists: version v1 is published, and boxes may have pinned its SHA-256; give another --agent-version", result.Stderr.Trim());
        Assert.Equal(AgentBuildFiles.Sha256(first), AgentBuildFiles.Sha256(Path.Combine(target, "v1", "spotdevbox-linux-x64.tar.gz")));
        Assert.Equal(manifest, await File.ReadAllBytesAsync(Path.Combine(target, "manifest.json")));
    }

    [Fact]
    public async Task Publish_OneArchitectureAfterBoth_WarnsThatTheOtherHasNoBuildAnyMore()
    {
        var x64 = AgentBuildFiles.Build(_temp.Sub("x64.tar.gz"), AgentBuildFiles.X64);
        var arm64 = AgentBuildFiles.Build(_temp.Sub("arm64.tar.gz"), AgentBuildFiles.Arm64);
        var target = _temp.Sub("agent-builds");
        var cli = Cli();
        Assert.Equal(0, (await cli.RunAsync("agent", "publish", "--to", target, "--build", "linux-x64=" + x64, "--build", "linux-arm64=" + arm64, "--agent-version", "v1")).ExitCode);

        var result = await cli.RunAsync("agent", "publish", "--to", target, "--build", "linux-x64=" + x64, "--agent-version", "v2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            "warning: the previous manifest (version v1) had a build for arm64 and this one has none: boxes on arm64 cannot launch until one is published",
            result.Stderr.Trim());
        using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(target, "manifest.json")));
        Assert.Equal("v2", manifest.RootElement.GetProperty("version").GetString());
        Assert.Equal(["linux-x64"], manifest.RootElement.GetProperty("builds").EnumerateArray().Select(b => b.GetProperty("rid").GetString()));
    }

    [Theory]
    [InlineData(new[] { "--build", "linux-x64=a.tar.gz" }, "--to is required")]
    [InlineData(new[] { "--to", "s3://my-bucket" }, "give a prefix in the bucket, s3://bucket/prefix")]
    [InlineData(new[] { "--to", "DIR" }, "give at least one --agent-archive FILE (a release's spotdevbox-VERSION-linux-x64.tar.gz) or --build RID=FILE.tar.gz")]
    [InlineData(new[] { "--to", "DIR", "--agent-archive", "" }, "--agent-archive takes a file")]
    [InlineData(new[] { "--to", "DIR", "--agent-archive", "missing.tar.gz" }, "--agent-archive missing.tar.gz: there is no such file")]
    [InlineData(new[] { "--to", "DIR", "--build", "a.tar.gz" }, "--build takes RID=FILE")]
    [InlineData(new[] { "--to", "DIR", "--build", "win-x64=a.tar.gz" }, "the runtime identifier must be one of linux-x64, linux-arm64")]
    [InlineData(new[] { "--to", "DIR", "--build", "linux-x64=a.tar.gz", "--build", "linux-x64=b.tar.gz" }, "--build names linux-x64 twice")]
    [InlineData(new[] { "--to", "DIR", "--build", "linux-x64=a.tar.gz", "--agent-version", "../v1" }, "--agent-version must be 1-100 letters, digits")]
    [InlineData(new[] { "--to", "DIR", "--build", "linux-x64=missing.tar.gz" }, "there is no such file")]
    public async Task Publish_BadArguments_Exit2AndNothingWritten(string[] args, string expected)
    {
        var target = _temp.Sub("agent-builds");

        var result = await Cli().RunAsync(["agent", "publish", .. args.Select(a => a.Replace("DIR", target, StringComparison.Ordinal))]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target), "the target was created");
    }

    [Fact]
    public async Task Publish_AgentArchives_EachUnderTheRuntimeItsExecutableIsBuiltFor()
    {
        // Release archives as scripts/release names them, given arm64 first: the runtime comes from the ELF header.
        var arm64 = AgentBuildFiles.Build(_temp.Sub("spotdevbox-1.0.0-linux-arm64.tar.gz"), AgentBuildFiles.Arm64);
        var x64 = AgentBuildFiles.Build(_temp.Sub("spotdevbox-1.0.0-linux-x64.tar.gz"), AgentBuildFiles.X64);
        var target = _temp.Sub("agent-builds");

        var result = await Cli().RunAsync("agent", "publish", "--to", target, "--agent-archive", arm64, "--agent-archive", x64, "--agent-version", "1.0.0");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(x64), await File.ReadAllBytesAsync(Path.Combine(target, "1.0.0", "spotdevbox-linux-x64.tar.gz")));
        Assert.Equal(await File.ReadAllBytesAsync(arm64), await File.ReadAllBytesAsync(Path.Combine(target, "1.0.0", "spotdevbox-linux-arm64.tar.gz")));
        using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(target, "manifest.json")));
        var builds = manifest.RootElement.GetProperty("builds").EnumerateArray().ToList();
        Assert.Equal(2, builds.Count);
        AssertBuild(builds[0], "linux-arm64", "arm64", "1.0.0/spotdevbox-linux-arm64.tar.gz", arm64);
        AssertBuild(builds[1], "linux-x64", "x86_64", "1.0.0/spotdevbox-linux-x64.tar.gz", x64);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Publish_AgentArchiveWithABuild_BothInTheManifest()
    {
        var x64 = AgentBuildFiles.Build(_temp.Sub("spotdevbox-1.0.0-linux-x64.tar.gz"), AgentBuildFiles.X64);
        var arm64 = AgentBuildFiles.Build(_temp.Sub("my-arm64-build.tar.gz"), AgentBuildFiles.Arm64);
        var target = _temp.Sub("agent-builds");

        var result = await Cli().RunAsync("agent", "publish", "--to", target, "--agent-archive", x64, "--build", "linux-arm64=" + arm64, "--agent-version", "v1");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(target, "manifest.json")));
        var builds = manifest.RootElement.GetProperty("builds").EnumerateArray().ToList();
        AssertBuild(builds[0], "linux-arm64", "arm64", "v1/spotdevbox-linux-arm64.tar.gz", arm64);
        AssertBuild(builds[1], "linux-x64", "x86_64", "v1/spotdevbox-linux-x64.tar.gz", x64);
    }

    [Fact]
    public async Task Publish_TwoArchivesOfOneRuntime_Exit2NamingBothAndNothingWritten()
    {
        // The second is named as an arm64 release, but its executable is x86-64.
        var first = AgentBuildFiles.Build(_temp.Sub("spotdevbox-1.0.0-linux-x64.tar.gz"), AgentBuildFiles.X64);
        var second = AgentBuildFiles.Build(_temp.Sub("spotdevbox-1.0.0-linux-arm64.tar.gz"), AgentBuildFiles.X64);
        var target = _temp.Sub("agent-builds");

        var result = await Cli().RunAsync("agent", "publish", "--to", target, "--agent-archive", first, "--agent-archive", second, "--agent-version", "v1");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"spotdevbox: --agent-archive {second}: a linux-x64 build, and so is --agent-archive {first}; give one build per runtime", result.Stderr.Trim());
        Assert.False(Directory.Exists(target), "the target was created");
    }

    [Fact]
    public async Task Publish_AgentArchiveOfTheRuntimeOfABuild_Exit2NamingBoth()
    {
        var build = AgentBuildFiles.Build(_temp.Sub("mine.tar.gz"), AgentBuildFiles.Arm64);
        var archive = AgentBuildFiles.Build(_temp.Sub("spotdevbox-1.0.0-linux-arm64.tar.gz"), AgentBuildFiles.Arm64);
        var target = _temp.Sub("agent-builds");

        var result = await Cli().RunAsync("agent", "publish", "--to", target, "--build", "linux-arm64=" + build, "--agent-archive", archive);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"spotdevbox: --agent-archive {archive}: a linux-arm64 build, and so is --build linux-arm64={build}; give one build per runtime", result.Stderr.Trim());
        Assert.False(Directory.Exists(target), "the target was created");
    }

    [Fact]
    public async Task Publish_AgentArchiveForAnotherMachine_Exit2NamingTheFile()
    {
        var riscv = AgentBuildFiles.Build(_temp.Sub("spotdevbox-1.0.0-linux-riscv64.tar.gz"), 243);
        var target = _temp.Sub("agent-builds");

        var result = await Cli().RunAsync("agent", "publish", "--to", target, "--agent-archive", riscv);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"spotdevbox: --agent-archive {riscv}: 'spotdevbox' is built for ELF machine 243, neither x86-64 (linux-x64) nor aarch64 (linux-arm64); boxes run only those", result.Stderr.Trim());
        Assert.False(Directory.Exists(target), "the target was created");
    }

    [Fact]
    public async Task Publish_AgentArchiveThatFailsTheFullCheck_Exit2NamedAsGiven()
    {
        // Its executable is aarch64, so its runtime is known, but it is not executable: refused as --build would be.
        var archive = AgentBuildFiles.Write(_temp.Sub("spotdevbox-1.0.0-linux-arm64.tar.gz"),
            ("./spotdevbox", TarEntryType.RegularFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, AgentBuildFiles.Elf(AgentBuildFiles.Arm64)));
        var target = _temp.Sub("agent-builds");

        var result = await Cli().RunAsync("agent", "publish", "--to", target, "--agent-archive", archive);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"spotdevbox: --agent-archive {archive}: './spotdevbox' is not executable (mode 644)", result.Stderr.Trim());
        Assert.False(Directory.Exists(target), "the target was created");
    }

    [Fact]
    public async Task PublishHelp_ExplainsTheDefaultVersionAndTheManifest()
    {
        var result = await Cli().RunAsync("agent", "publish", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        var text = System.Text.RegularExpressions.Regex.Replace(result.Stdout, @"\s+", " ");
        Assert.Contains("spotdevbox agent publish", text, StringComparison.Ordinal);
        Assert.Contains("Default: this spotdevbox's version and commit plus the UTC time", text, StringComparison.Ordinal);
        Assert.Contains("PREFIX/manifest.json", text, StringComparison.Ordinal);
        Assert.Contains("--agent-archive <FILE>", text, StringComparison.Ordinal);
        // Examples are wrapped with a shell's line continuation.
        Assert.Contains("spotdevbox agent publish --to s3://my-bucket/spotdevbox/agent --agent-archive spotdevbox-1.0.0-linux-x64.tar.gz --agent-archive spotdevbox-1.0.0-linux-arm64.tar.gz", text.Replace(" \\ ", " ", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();

    private static void AssertBuild(JsonElement build, string rid, string architecture, string key, string file)
    {
        Assert.Equal(rid, build.GetProperty("rid").GetString());
        Assert.Equal(architecture, build.GetProperty("architecture").GetString());
        Assert.Equal(key, build.GetProperty("key").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))), build.GetProperty("sha256").GetString());
        Assert.Equal(new FileInfo(file).Length, build.GetProperty("size").GetInt64());
    }

    private static async Task<byte[]> GetAsync(Amazon.S3.AmazonS3Client s3, string bucket, string key)
    {
        using var response = await s3.GetObjectAsync(bucket, key);
        using var buffer = new MemoryStream();
        await response.ResponseStream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static string NotAnAgentBuild(string kind, string path)
    {
        const UnixFileMode executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        const UnixFileMode readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        var elf = AgentBuildFiles.Elf(AgentBuildFiles.X64);
        switch (kind)
        {
            case "not-gzip":
                File.WriteAllText(path, "#!/bin/sh\necho I am no archive\n");
                return path;
            case "gzip-not-tar":
                return AgentBuildFiles.Gzip(path, [.. System.Text.Encoding.UTF8.GetBytes(new string('x', 2000))]);
            case "truncated":
                AgentBuildFiles.Build(path, AgentBuildFiles.X64);
                var bytes = File.ReadAllBytes(path);
                File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
                return path;
            case "empty-tar":
                // A tar's end is two zero blocks; an archive with no entry is nothing else.
                return AgentBuildFiles.Gzip(path, new byte[1024]);
            case "no-spotdevbox":
                return AgentBuildFiles.Write(path, ("./", TarEntryType.Directory, executable, null), ("./spotdevbox.dll", TarEntryType.RegularFile, readable, elf));
            case "spotdevbox-in-a-folder":
                return AgentBuildFiles.Write(path, ("./publish/", TarEntryType.Directory, executable, null), ("./publish/spotdevbox", TarEntryType.RegularFile, executable, elf));
            case "spotdevbox-is-a-folder":
                return AgentBuildFiles.Write(path, ("./spotdevbox/", TarEntryType.Directory, executable, null), ("./spotdevbox/spotdevbox", TarEntryType.RegularFile, executable, elf));
            case "not-executable":
                return AgentBuildFiles.Write(path, ("./spotdevbox", TarEntryType.RegularFile, readable, elf));
            case "not-elf":
                return AgentBuildFiles.Write(path, ("./spotdevbox", TarEntryType.RegularFile, executable, "#!/bin/sh\nexec dotnet spotdevbox.dll \"$@\"\n"u8.ToArray()));
            case "other-architecture":
                return AgentBuildFiles.Write(path, ("./spotdevbox", TarEntryType.RegularFile, executable, AgentBuildFiles.Elf(AgentBuildFiles.Arm64)));
            case "escapes":
                return AgentBuildFiles.Write(path, ("../spotdevbox", TarEntryType.RegularFile, executable, elf), ("./spotdevbox", TarEntryType.RegularFile, executable, elf));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "no such case");
        }
    }
}
