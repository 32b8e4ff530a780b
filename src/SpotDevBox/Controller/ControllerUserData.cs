using Microsoft.Extensions.Options;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Builds;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Repositories;

namespace SpotDevBox.Controller;

/// <summary>
/// A launch's user data: the box's cloud-config with the agent build of the image's architecture, from the
/// manifest under Controller:AgentBuilds (read once per launch, for both architectures).
/// </summary>
internal sealed class ControllerUserData(IOptions<ControllerOptions> options, RepositoryOpener opener) : ILaunchUserData
{
    public async Task<Func<CpuArchitecture, string>> PrepareAsync(string box, BoxOptions boxOptions, RollbackGuard rollback, CancellationToken cancellationToken)
    {
        // Here, the one place both the controller's pass and `up` prepare a launch, before anything is launched.
        if (FleetOptions.MissingRepositoryKey(options.Value.Fleet) is { } missingKey)
        {
            throw new UserDataException(missingKey);
        }

        var store = opener.CreateStore(new RepositoryAddress(options.Value.AgentBuilds));
        try
        {
            return await PrepareAsync(store, box, boxOptions, rollback, options.Value.Fleet?.RepositoryKeyArn ?? "", cancellationToken);
        }
        catch (StorageException e)
        {
            throw new AgentBuildException($"the agent builds manifest under {options.Value.AgentBuilds} could not be read: {e.Message}", e);
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    private static async Task<Func<CpuArchitecture, string>> PrepareAsync(
        IObjectStore store, string box, BoxOptions boxOptions, RollbackGuard rollback, string repositoryKeyArn, CancellationToken cancellationToken)
    {
        var artifacts = new Dictionary<CpuArchitecture, AgentArtifact>();
        var missing = new Dictionary<CpuArchitecture, string>();
        foreach (var architecture in new[] { CpuArchitecture.X64, CpuArchitecture.Arm64 })
        {
            try
            {
                artifacts[architecture] = await AgentBuilds.ResolveAsync(store, architecture, cancellationToken);
            }
            catch (AgentBuildException e) when (e.InnerException is not StorageException)
            {
                // This architecture is not in the manifest: fine unless the image needs it.
                missing[architecture] = e.Message;
            }
        }

        if (artifacts.Count == 0)
        {
            // Neither architecture: the manifest itself is unusable; say why once.
            throw new AgentBuildException(missing[CpuArchitecture.X64]);
        }

        return architecture => artifacts.TryGetValue(architecture, out var artifact)
            ? UserDataTemplate.Render(boxOptions, box, artifact, rollback: rollback, repositoryKeyArn: repositoryKeyArn)
            : throw new UserDataException(box, [missing.TryGetValue(architecture, out var why) ? why : $"no agent build for {architecture}"]);
    }
}
