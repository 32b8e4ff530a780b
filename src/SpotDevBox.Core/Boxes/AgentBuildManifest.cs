using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Launch;

namespace SpotDevBox.Core.Boxes;

/// <summary>
/// <c>PREFIX/manifest.json</c>, written by <c>spotdevbox agent publish</c> after every build it names is
/// uploaded: the agent builds a launch may pin. Each <see cref="AgentBuild.Key"/> is relative to the
/// prefix that holds the manifest, so a published folder can be copied to another bucket or prefix as it is.
/// </summary>
public sealed partial record AgentBuildManifest(string Version, DateTimeOffset PublishedAt, IReadOnlyList<AgentBuild> Builds)
{
    /// <summary>The manifest's key under the agent builds prefix.</summary>
    public const string Key = "manifest.json";

    /// <summary>The runtime identifiers a box can run, with the architecture each is built for.</summary>
    public static IReadOnlyDictionary<string, CpuArchitecture> Rids { get; } = new Dictionary<string, CpuArchitecture>(StringComparer.Ordinal)
    {
        ["linux-x64"] = CpuArchitecture.X64,
        ["linux-arm64"] = CpuArchitecture.Arm64,
    };

    /// <summary>Reads a manifest; <paramref name="location"/> names it in the error when it is not one.</summary>
    /// <exception cref="AgentBuildException">Not JSON, or not a manifest's shape.</exception>
    public static AgentBuildManifest Parse(ReadOnlySpan<byte> json, string location)
    {
        AgentBuildManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(json, AgentBuildJson.Default.AgentBuildManifest);
        }
        catch (JsonException e)
        {
            throw new AgentBuildException($"{location} is not an agent builds manifest: {e.Message}", e);
        }

        // The options refuse a missing or null property; a document that is just "null" is left.
        if (manifest is null)
        {
            throw new AgentBuildException($"{location} is not an agent builds manifest: it needs version, published_at and builds");
        }

        return manifest;
    }

    /// <summary>
    /// The build a box of <paramref name="architecture"/> installs, as the box's user data pins it:
    /// <c>s3://<paramref name="bucket"/>/<paramref name="prefix"/>/key</c> and its SHA-256.
    /// </summary>
    /// <exception cref="AgentBuildException">No build, two builds, or a build whose key or SHA-256 cannot be pinned.</exception>
    public AgentArtifact ArtifactFor(CpuArchitecture architecture, string bucket, string prefix)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        ArgumentNullException.ThrowIfNull(prefix);
        var root = prefix.Trim('/');
        var location = $"s3://{bucket}/{(root.Length == 0 ? "" : root + "/")}{Key}";
        var name = LaunchCandidates.Name(architecture);
        var matches = Builds.Where(b => b.Architecture == name).ToList();
        if (matches.Count == 0)
        {
            var has = Builds.Count == 0 ? "none" : string.Join(", ", Builds.Select(b => b.Architecture).Distinct(StringComparer.Ordinal));
            var rid = Rids.FirstOrDefault(r => r.Value == architecture).Key ?? name;
            throw new AgentBuildException(
                $"{location} (version {Version}) has no agent build for {name} (it has: {has}); publish one with scripts/publish-agent --rid {rid}");
        }

        if (matches.Count > 1)
        {
            throw new AgentBuildException($"{location} (version {Version}) lists {matches.Count} agent builds for {name}; a manifest has one per architecture");
        }

        var build = matches[0];
        if (build.Sha256 is null || !Sha256().IsMatch(build.Sha256))
        {
            throw new AgentBuildException($"{location}: the {name} build's sha256 must be 64 lower-case hex digits, got '{build.Sha256}'");
        }

        if (build.Key is null || !RelativeKey().IsMatch(build.Key) || build.Key.Split('/').Any(s => s is "." or ".."))
        {
            throw new AgentBuildException($"{location}: the {name} build's key must be a key relative to the manifest (letters, digits, . _ - /), got '{build.Key}'");
        }

        return new AgentArtifact(bucket, root.Length == 0 ? build.Key : root + "/" + build.Key, build.Sha256, architecture);
    }

    [GeneratedRegex("^[0-9a-f]{64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256();

    [GeneratedRegex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex RelativeKey();
}

/// <summary>One published build: its runtime identifier, EC2's architecture name (x86_64, arm64), where it is, and what it is.</summary>
public sealed record AgentBuild(string Rid, string Architecture, string Key, string Sha256, long Size);

/// <summary>The agent builds manifest cannot give a box its agent: it is unreadable, or has no usable build for the box's architecture.</summary>
public sealed class AgentBuildException : Exception
{
    public AgentBuildException() : this("the agent builds manifest cannot be used") { }

    public AgentBuildException(string message) : base(message) { }

    public AgentBuildException(string message, Exception innerException) : base(message, innerException) { }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(AgentBuildManifest))]
public sealed partial class AgentBuildJson : JsonSerializerContext;
