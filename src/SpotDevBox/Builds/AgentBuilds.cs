using SpotDevBox.Backup.Storage;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Builds;

/// <summary>The agent build a launch pins, read from the manifest under the controller's Controller:AgentBuilds prefix.</summary>
internal static class AgentBuilds
{
    /// <summary>
    /// Reads <c>manifest.json</c> from <paramref name="store"/> (opened on the agent builds prefix,
    /// s3://bucket/prefix) and returns the build for <paramref name="architecture"/> as the box's user
    /// data pins it: the bucket and full key, and the SHA-256.
    /// </summary>
    /// <exception cref="AgentBuildException">No manifest, an unreadable one, no build for the architecture, or a store that is not in S3.</exception>
    public static async Task<AgentArtifact> ResolveAsync(IObjectStore store, CpuArchitecture architecture, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        RepositoryLocation location;
        try
        {
            location = RepositoryLocation.Parse(store.Location);
        }
        catch (FormatException e)
        {
            throw new AgentBuildException($"the agent builds are at {store.Location}, which is not s3://bucket/prefix: {e.Message}", e);
        }

        if (location.Kind != RepositoryKind.S3)
        {
            throw new AgentBuildException($"the agent builds are at {store.Location}: a box downloads its agent from S3, publish to s3://bucket/prefix");
        }

        var where = AgentPublisher.Where(store, AgentBuildManifest.Key);
        byte[] json;
        try
        {
            json = await store.GetAsync(AgentBuildManifest.Key, cancellationToken);
        }
        catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
        {
            throw new AgentBuildException($"no agent build at {store.Location} (there is no {where}): run 'scripts/publish-agent --to {store.Location}' first (it builds the agent and runs 'spotdevbox agent publish')", e);
        }
        catch (StorageException e) when (e.Failure == StorageFailure.AccessDenied)
        {
            // S3 answers 403, not 404, for a missing object to a caller who may not list the prefix.
            throw new AgentBuildException(
                $"cannot read {where}: it is missing (publish with scripts/publish-agent --to {store.Location}) or the controller may not read it (deploy/iam/controller-policy.json, ReadTheAgentBuildsManifest)", e);
        }

        return AgentBuildManifest.Parse(json, where).ArtifactFor(architecture, location.Bucket, location.Prefix);
    }
}
