using SpotDevBox.Core.Agent;

namespace SpotDevBox.Core.Controller;

/// <summary>What reconcile decided for a box, and why; also what <c>controller run</c> derives its next trigger from.</summary>
/// <param name="Action">See <see cref="ReconcileActions"/>.</param>
/// <param name="NextChange">When the schedule (with overrides) next flips the box up or down: the next Quartz trigger.</param>
/// <param name="Signature">What makes a repeat the same decision for the log (default: the reason); a budget warning repeats while only its amount grows.</param>
/// <param name="SessionId">The session the decision concerns, when it is not the one the store has for <paramref name="InstanceId"/> (a launch that failed with its outcome unknown keeps its session id for the next attempt).</param>
public sealed record BoxDecision(string Box, string Action, string Reason, string? InstanceId = null, DateTimeOffset? NextChange = null, string? Signature = null, string? SessionId = null);

/// <summary>The actions a decision names, as they appear in the log and in the store.</summary>
public static class ReconcileActions
{
    public const string None = "none";
    public const string Launch = "launch";
    public const string Relaunch = "relaunch";
    public const string LaunchFailed = "launch-failed";
    public const string LaunchDeferred = "launch-deferred";
    /// <summary>Another launcher (an <c>up</c>, another controller) holds the box's launch claim: this pass does not launch it.</summary>
    public const string LaunchClaimed = "launch-claimed";
    public const string SkipMissedStart = "skip-missed-start";
    public const string RequestStop = "request-stop";
    public const string WithdrawStop = "withdraw-stop";
    public const string WaitForAgent = "wait-for-agent";
    public const string ApiStop = "api-stop";
    public const string TerminateDuplicate = "terminate-duplicate";
    public const string AssociateAddress = "associate-address";
    public const string BudgetWarning = "budget-warning";
    public const string BudgetExceeded = "budget-exceeded";
    public const string AddressFailed = "address-failed";
    public const string SessionStarted = "session-start";
    public const string SessionEnded = "session-end";
    public const string InstanceState = "instance-state";
    public const string Unreachable = "unreachable";
    /// <summary>
    /// A security event: an instance carries the box's tag but not the box's instance profile (someone else launched
    /// it). It is left alone: not adopted, not terminated, no Elastic IP, no session (docs/security.md).
    /// </summary>
    public const string ForeignInstance = "foreign-instance";
}

/// <summary>How a session ended, as <see cref="SessionRow.EndedBy"/> stores it.</summary>
public static class SessionEndings
{
    public const string Interruption = "interruption";
    public const string ApiStop = "api-stop";
    public const string InstanceShutdown = "instance-shutdown";
    public const string TerminatedByUser = "terminated-by-user";
    public const string Unknown = "unknown";

    /// <summary>The agent's own words: idle, schedule, manual, max-session-length, interruption, system-shutdown, service-stopped.</summary>
    public static string Of(SessionEnd end) => end switch
    {
        SessionEnd.MaxSessionLength => "max-session-length",
        SessionEnd.SystemShutdown => "system-shutdown",
        SessionEnd.ServiceStopped => "service-stopped",
        _ => end.ToString().ToLowerInvariant(),
    };
}
