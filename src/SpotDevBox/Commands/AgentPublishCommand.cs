using System.ComponentModel;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Builds;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

internal sealed class AgentPublishSettings : CommandSettings
{
    [CommandOption("--to <PREFIX>")]
    [Description("Where the builds go: s3://bucket/prefix (the controller's Controller:AgentBuilds) or a local directory.")]
    public string? To { get; set; }

    [CommandOption("--build <RID=FILE>")]
    [Description("A build to publish, once per runtime: linux-x64=FILE.tar.gz, linux-arm64=FILE.tar.gz. FILE is a gzip tar of 'dotnet publish -r RID --self-contained' with the spotdevbox executable at its top.")]
    public string[] Builds { get; set; } = [];

    [CommandOption("--agent-archive <FILE>")]
    [Description("A release archive to publish (spotdevbox-VERSION-linux-x64.tar.gz or -linux-arm64.tar.gz), or any file --build takes; its runtime is read from the spotdevbox executable's ELF header (x86-64: linux-x64, aarch64: linux-arm64). Repeatable, and with --build; one build per runtime.")]
    public string[] AgentArchives { get; set; } = [];

    [CommandOption("--agent-version <VERSION>")]
    [Description("The folder the builds go to under the prefix (letters, digits, '.', '_', '-'). Default: this spotdevbox's version and commit plus the UTC time, e.g. 1.0.0-3f2a1b9c0d4e-20260715T101500Z, so every publish gets a folder of its own. A version already published is refused: boxes may have pinned its SHA-256.")]
    public string? Version { get; set; }

    [CommandOption("--endpoint-url <URL>")]
    [Description("S3-compatible endpoint (else Storage:EndpointUrl, $AWS_ENDPOINT_URL_S3, else AWS).")]
    public string? EndpointUrl { get; set; }

    [CommandOption("--region <REGION>")]
    [Description("AWS region (else Storage:Region, else the SDK's chain).")]
    public string? Region { get; set; }

    [CommandOption("--kms-key-id <KEY>")]
    [Description("Encrypt the objects with this KMS key (SSE-KMS); the boxes' role then needs kms:Decrypt on it. Default: SSE-S3.")]
    public string? KmsKeyId { get; set; }

    [CommandOption("--json")]
    [Description("Print the manifest that was written as JSON on stdout (for scripts).")]
    public bool Json { get; set; }

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(To))
        {
            return ValidationResult.Error("--to is required: s3://bucket/prefix or a directory");
        }

        try
        {
            if (RepositoryLocation.Parse(To) is { Kind: RepositoryKind.S3, Prefix.Length: 0 })
            {
                return ValidationResult.Error($"--to: give a prefix in the bucket, s3://bucket/prefix, got '{To}'");
            }
        }
        catch (FormatException e)
        {
            return ValidationResult.Error("--to: " + e.Message);
        }

        if (Builds.Length == 0 && AgentArchives.Length == 0 && RunningBuild.Describe() is { Rid: null, WhyNot: var whyNot })
        {
            return ValidationResult.Error($"give at least one --agent-archive FILE (a release's spotdevbox-VERSION-linux-x64.tar.gz) or --build RID=FILE.tar.gz (RID: linux-x64 or linux-arm64): {whyNot}, so it cannot publish itself");
        }

        if (AgentArchives.FirstOrDefault(string.IsNullOrWhiteSpace) is not null)
        {
            return ValidationResult.Error("--agent-archive takes a file, got an empty value");
        }

        var rids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var build in Builds)
        {
            var equals = build.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == build.Length - 1)
            {
                return ValidationResult.Error($"--build takes RID=FILE (e.g. linux-x64=spotdevbox-linux-x64.tar.gz), got '{build}'");
            }

            var rid = build[..equals];
            if (!AgentBuildManifest.Rids.ContainsKey(rid))
            {
                return ValidationResult.Error($"--build {build}: the runtime identifier must be one of {string.Join(", ", AgentBuildManifest.Rids.Keys)}");
            }

            if (!rids.Add(rid))
            {
                return ValidationResult.Error($"--build names {rid} twice");
            }
        }

        return Version is not null && AgentPublisher.CheckVersion(Version) is { } problem ? ValidationResult.Error(problem) : ValidationResult.Success();
    }
}

[Description("Publish agent builds for the boxes (a release's linux archives with --agent-archive, your own with --build, or with neither this spotdevbox itself when it is a Linux release build): check each .tar.gz, upload it to PREFIX/VERSION/spotdevbox-RID.tar.gz, then write PREFIX/manifest.json (version, time, and each build's key, SHA-256 and size), last. A launch pins the build for its instance's architecture from that manifest. scripts/publish-agent builds the files and calls this.")]
internal sealed class AgentPublishCommand(RepositoryOpener opener, TimeProvider time) : AsyncCommand<AgentPublishSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, AgentPublishSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var builds = new List<InspectedBuild>();
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var build in settings.Builds)
        {
            var equals = build.IndexOf('=', StringComparison.Ordinal);
            builds.Add(await AgentArchive.InspectAsync(build[..equals], build[(equals + 1)..], cancellationToken));
            given[build[..equals]] = $"--build {build}";
        }

        foreach (var archive in settings.AgentArchives)
        {
            var option = $"--agent-archive {archive}";
            var rid = await AgentArchive.RuntimeOfAsync(archive, cancellationToken, option);
            if (given.TryGetValue(rid, out var first))
            {
                throw new ArgumentException($"{option}: a {rid} build, and so is {first}; give one build per runtime");
            }

            builds.Add(await AgentArchive.InspectAsync(rid, archive, cancellationToken, option));
            given[rid] = option;
        }

        using var scratch = builds.Count == 0 ? new ScratchFolder() : null;
        if (scratch is not null)
        {
            // Nothing named: this executable, a Linux release build, is the agent (the same binary is the CLI and the agent).
            var rid = RunningBuild.Describe().Rid!;
            var packed = Path.Combine(scratch.Path, $"spotdevbox-{rid}.tar.gz");
            await RunningBuild.PackAsync(packed, cancellationToken);
            builds.Add(await AgentArchive.InspectAsync(rid, packed, cancellationToken, "this spotdevbox"));
        }

        var publisher = new AgentPublisher(time);
        var version = settings.Version ?? publisher.DefaultVersion();
        var location = RepositoryLocation.Parse(settings.To!);
        if (location.Kind == RepositoryKind.Local)
        {
            // A directory is created as a bucket is: before the first object is written to it.
            Directory.CreateDirectory(location.LocalPath);
        }

        var store = opener.CreateStore(new RepositorySettings
        {
            Repository = settings.To,
            EndpointUrl = settings.EndpointUrl,
            Region = settings.Region,
            KmsKeyId = settings.KmsKeyId,
        });
        try
        {
            var published = await publisher.PublishAsync(store, version, builds, cancellationToken);
            foreach (var warning in published.Warnings)
            {
                Terminal.Warn(warning);
            }

            if (settings.Json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(published.Manifest, AgentBuildJson.Default.AgentBuildManifest));
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"published agent {version}");
            for (var i = 0; i < builds.Count; i++)
            {
                var entry = published.Manifest.Builds[i];
                Console.Out.WriteLine($"  {entry.Rid,-12} {published.BuildLocations[i]}");
                Console.Out.WriteLine($"  {"",-12} sha256 {entry.Sha256}, {entry.Size} bytes ({Terminal.Bytes(entry.Size)}), {entry.Architecture}");
            }

            Console.Out.WriteLine($"  {"manifest",-12} {published.ManifestLocation}");
            return ExitCodes.Ok;
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }
}

/// <summary>A private temporary folder, deleted with what is in it.</summary>
internal sealed class ScratchFolder : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("spotdevbox-");

    public string Path => _directory.FullName;

    public void Dispose()
    {
        if (_directory.Exists)
        {
            _directory.Delete(recursive: true);
        }
    }
}
