using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Controller;

/// <summary>
/// The documents in a box's storage prefix (<see cref="BoxOptions.Storage"/>) that the controller reads and
/// writes: the agent's status, the control document, and the agent's interruption and session records.
/// Failures to reach storage throw; a document that does not exist is null.
/// </summary>
public interface IBoxDocuments
{
    Task<AgentStatus?> ReadStatusAsync(string storage, CancellationToken cancellationToken);

    Task<ControlDocument?> ReadControlAsync(string storage, CancellationToken cancellationToken);

    Task WriteControlAsync(string storage, ControlDocument control, CancellationToken cancellationToken);

    /// <summary>
    /// The box's budget override, the operator-only document <c>ROOT/_operator/budget-overrides/&lt;owner&gt;/&lt;box&gt;.json</c>
    /// next to the box's <paramref name="storage"/> (<see cref="BudgetOverride"/>); null when there is none.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">The store refused to read it.</exception>
    Task<BudgetOverride?> ReadBudgetOverrideAsync(string storage, string owner, string box, CancellationToken cancellationToken);

    /// <summary>Writes the box's budget override (only <c>up --over-budget</c> does; the controller never writes it).</summary>
    /// <exception cref="UnauthorizedAccessException">The store refused the write: the caller does not hold an operator's right.</exception>
    Task WriteBudgetOverrideAsync(string storage, string owner, string box, BudgetOverride grant, CancellationToken cancellationToken);

    /// <summary>Where the box's budget override lives, for messages (<c>s3://bucket/ROOT/_operator/budget-overrides/owner/box.json</c>).</summary>
    string BudgetOverrideLocation(string storage, string owner, string box);

    /// <summary>The agent's record of a spot notice on <paramref name="instanceId"/>, if it wrote one.</summary>
    Task<InterruptionRecord?> FindInterruptionAsync(string storage, string instanceId, CancellationToken cancellationToken);

    /// <summary>The agent's record of how <paramref name="instanceId"/>'s session ended, if it wrote one.</summary>
    Task<SessionRecord?> FindSessionRecordAsync(string storage, string instanceId, CancellationToken cancellationToken);
}

/// <summary>Prepares the user data of a launch: reads which agent build to pin, once, before the launcher learns the architecture.</summary>
public interface ILaunchUserData
{
    /// <exception cref="UserDataException">The box's values cannot be placed in the user data.</exception>
    /// <exception cref="AgentBuildException">No agent build is published or readable (the message says how to publish one).</exception>
    /// <param name="rollback">The rollback floor and permission the agent's boot restore gets (Agent:MinimumSnapshot, Agent:AllowRollback).</param>
    Task<Func<CpuArchitecture, string>> PrepareAsync(string box, BoxOptions options, RollbackGuard rollback, CancellationToken cancellationToken);
}
