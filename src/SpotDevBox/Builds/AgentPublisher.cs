using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Core.Boxes;

namespace SpotDevBox.Builds;

/// <summary>What one publish wrote: the manifest, and where each build and the manifest are.</summary>
internal sealed record PublishedBuilds(AgentBuildManifest Manifest, IReadOnlyList<string> BuildLocations, string ManifestLocation, IReadOnlyList<string> Warnings);

/// <summary>
/// Uploads checked agent builds under <c>VERSION/spotdevbox-RID.tar.gz</c> and then writes
/// <c>manifest.json</c>: the manifest goes last, so a launch never reads a manifest naming a build
/// that is not there. A version's builds are never replaced: a box launched earlier pinned their SHA-256.
/// </summary>
internal sealed partial class AgentPublisher(TimeProvider time)
{
    /// <summary>The default version: this executable's informational version and the time, e.g. 1.0.0-3f2a1b9c0d4e-20260715T101500Z.</summary>
    public string DefaultVersion()
    {
        var informational = typeof(AgentPublisher).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        // "1.0.0+<40-hex commit>": '+' is no character for a key the user data pins, and 12 digits name a commit.
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            var metadata = informational[(plus + 1)..];
            informational = informational[..plus] + "-" + (metadata.Length > 12 ? metadata[..12] : metadata);
        }

        var clean = new string([.. informational.Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')]).Trim('.', '-', '_');
        return (clean.Length == 0 ? "0.0.0" : clean) + "-" + time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Null when <paramref name="version"/> can name a folder of builds, else why not.</summary>
    public static string? CheckVersion(string version) =>
        Version().IsMatch(version) ? null : $"--agent-version must be 1-100 letters, digits, '.', '_' and '-', starting with a letter or digit, got '{version}'";

    /// <summary>The key of a build under the agent builds prefix.</summary>
    public static string KeyOf(string version, string rid) => $"{version}/spotdevbox-{rid}.tar.gz";

    /// <exception cref="ArgumentException">The version is already published (nothing was uploaded).</exception>
    /// <exception cref="IOException">A build file changed after it was checked.</exception>
    public Task<PublishedBuilds> PublishAsync(IObjectStore store, string version, IReadOnlyList<InspectedBuild> builds, CancellationToken cancellationToken) =>
        PublishAsync(store, version, builds, [], cancellationToken);

    /// <param name="carried">
    /// Builds of the previous manifest to name again, for runtimes <paramref name="builds"/> has none of (setup publishing
    /// only the running build keeps the other architecture's); their keys stay where they are.
    /// </param>
    public async Task<PublishedBuilds> PublishAsync(
        IObjectStore store,
        string version,
        IReadOnlyList<InspectedBuild> builds,
        IReadOnlyList<AgentBuild> carried,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(builds);
        if (CheckVersion(version) is { } problem)
        {
            throw new ArgumentException(problem);
        }

        foreach (var build in builds)
        {
            if (await store.GetSizeAsync(KeyOf(version, build.Rid), cancellationToken) is not null)
            {
                throw new ArgumentException(
                    $"{Where(store, KeyOf(version, build.Rid))} already exists: version {version} is published, and boxes may have pinned its SHA-256; give another --agent-version");
            }
        }

        ArgumentNullException.ThrowIfNull(carried);
        var kept = carried.Where(c => builds.All(b => b.Rid != c.Rid)).ToList();
        var warnings = await DroppedArchitecturesAsync(store, builds, kept, cancellationToken);
        var entries = new List<AgentBuild>();
        foreach (var build in builds)
        {
            // One copy in memory (the store takes whole objects), hashed again: the bytes that go up are the bytes the manifest pins.
            var content = await File.ReadAllBytesAsync(build.Path, cancellationToken);
            var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
            if (sha256 != build.Sha256 || content.Length != build.Size)
            {
                throw new IOException($"{build.Path} changed after it was checked (SHA-256 {build.Sha256}, now {sha256}); nothing names what was uploaded, publish again");
            }

            var key = KeyOf(version, build.Rid);
            await store.PutAsync(key, content, cancellationToken);
            entries.Add(new AgentBuild(build.Rid, build.ArchitectureName, key, sha256, content.Length));
        }

        var manifest = new AgentBuildManifest(version, time.GetUtcNow(), [.. entries, .. kept]);
        await store.PutAsync(AgentBuildManifest.Key, JsonSerializer.SerializeToUtf8Bytes(manifest, AgentBuildJson.Default.AgentBuildManifest), cancellationToken);
        return new PublishedBuilds(manifest, [.. entries.Select(e => Where(store, e.Key))], Where(store, AgentBuildManifest.Key), warnings);
    }

    public static string Where(IObjectStore store, string key) => store.Location.TrimEnd('/') + "/" + key;

    /// <summary>The manifest is replaced whole: say which architectures the previous one served that this one will not.</summary>
    private static async Task<IReadOnlyList<string>> DroppedArchitecturesAsync(IObjectStore store, IReadOnlyList<InspectedBuild> builds, IReadOnlyList<AgentBuild> kept, CancellationToken cancellationToken)
    {
        byte[] previous;
        try
        {
            previous = await store.GetAsync(AgentBuildManifest.Key, cancellationToken);
        }
        catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
        {
            return [];
        }

        AgentBuildManifest old;
        try
        {
            old = AgentBuildManifest.Parse(previous, Where(store, AgentBuildManifest.Key));
        }
        catch (AgentBuildException e)
        {
            return [$"replacing an unreadable manifest: {e.Message}"];
        }

        var now = builds.Select(b => b.ArchitectureName).Concat(kept.Select(k => k.Architecture)).ToHashSet(StringComparer.Ordinal);
        return [.. old.Builds.Where(b => !now.Contains(b.Architecture)).Select(b => b.Architecture).Distinct(StringComparer.Ordinal)
            .Select(a => $"the previous manifest (version {old.Version}) had a build for {a} and this one has none: boxes on {a} cannot launch until one is published")];
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Version();
}
