namespace SpotDevBox.Core.Compute;

/// <summary>EC2's instance states; the value is EC2's state code (its low byte).</summary>
public enum InstanceState
{
    Pending = 0,
    Running = 16,
    ShuttingDown = 32,
    Terminated = 48,
    Stopping = 64,
    Stopped = 80,
}

/// <summary>How the instance is billed.</summary>
public enum InstanceLifecycle
{
    OnDemand,
    Spot,
}

/// <summary>
/// Why the instance is in its state, as EC2 reports it (<c>stateReason</c>). <paramref name="Code"/> is
/// kept as received, so a code EC2 adds later still reaches the log; <see cref="StateReasonCodes"/>
/// names the ones the controller decides on.
/// </summary>
public sealed record StateReason(string Code, string Message)
{
    /// <summary>EC2 reclaimed the spot capacity: the only ending that makes a relaunch in the window right.</summary>
    public bool IsSpotInterruption => Code == StateReasonCodes.SpotInstanceTermination;
}

public static class StateReasonCodes
{
    /// <summary>EC2 interrupted a spot instance.</summary>
    public const string SpotInstanceTermination = "Server.SpotInstanceTermination";

    /// <summary>Someone (a person, the controller, the CLI) called TerminateInstances or StopInstances.</summary>
    public const string UserInitiatedShutdown = "Client.UserInitiatedShutdown";

    /// <summary>The OS powered off (the agent's idle or scheduled stop) and shutdown behaviour made EC2 end it.</summary>
    public const string InstanceInitiatedShutdown = "Client.InstanceInitiatedShutdown";

    /// <summary>EC2 could not start it (e.g. the root volume or its KMS key was unusable).</summary>
    public const string InternalError = "Server.InternalError";

    public const string InsufficientInstanceCapacity = "Server.InsufficientInstanceCapacity";
}

/// <summary>
/// A box's instance as DescribeInstances reports it. <paramref name="Owner"/> and
/// <paramref name="SessionId"/> are null when the tags are missing (an instance tagged by hand).
/// </summary>
/// <param name="LaunchTime">When EC2 last started it (UTC).</param>
/// <param name="PublicDnsName">Null when EC2 reports none (no public address, or the VPC has DNS host names off).</param>
/// <param name="StateTransitionTime">
/// When EC2 moved the instance to its current state, from its <c>StateTransitionReason</c> ("User initiated
/// (2026-12-07 10:00:40 GMT)"); null when EC2 gives no time (a running instance, or a reason without one).
/// For an ended instance it is when its billing ended, however late the controller looks.
/// </param>
/// <param name="InstanceProfileArn">
/// The ARN of the IAM instance profile EC2 reports for it (<c>IamInstanceProfile.Arn</c>); null when it has none.
/// Only an instance whose profile is the box's own is the box's (<see cref="InstanceProfiles"/>).
/// </param>
public sealed record BoxInstance(
    string InstanceId,
    string Box,
    string? Owner,
    string? SessionId,
    string InstanceType,
    string AvailabilityZone,
    InstanceLifecycle Lifecycle,
    InstanceState State,
    StateReason? StateReason,
    DateTimeOffset LaunchTime,
    string? PrivateIpAddress,
    string? PublicIpAddress,
    string? PublicDnsName,
    DateTimeOffset? StateTransitionTime = null,
    string? InstanceProfileArn = null)
{
    /// <summary>
    /// Still an instance of the box: a launch must not start another. Shutting-down and terminated
    /// instances are ending and hold no work that the last backup does not.
    /// </summary>
    public bool IsLive => State is InstanceState.Pending or InstanceState.Running or InstanceState.Stopping or InstanceState.Stopped;
}
