using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Launch;

/// <summary>Why a launch ended without an instance: what the caller (controller, <c>up</c>) should do next.</summary>
public enum LaunchFailure
{
    /// <summary>Every candidate was passed over or failed on capacity, price, quota, addresses or zone: try later, or widen the box's types, subnets or max price.</summary>
    NoCandidateLaunched,

    /// <summary>EC2 refused the request or the credentials, or the image or a subnet does not exist: fix the box's configuration or the permissions; retrying will not help.</summary>
    Rejected,

    /// <summary>EC2 throttled or could not be reached before an instance could have started: nothing was launched; try later.</summary>
    Unavailable,

    /// <summary>
    /// RunInstances kept failing without an answer: an instance may have started. Keep the session id (so a
    /// retry reuses the client token) and let reconcile find the instance by its tag before a new session.
    /// </summary>
    Indeterminate,
}

/// <summary>What a box launch came to.</summary>
public abstract record LaunchResult
{
    // The cases below are the only ones.
    private LaunchResult()
    {
    }

    /// <summary>The instance EC2 started (pending), the candidate it took, and every candidate passed over before it.</summary>
    public sealed record Launched(BoxInstance Instance, LaunchCandidate Candidate, IReadOnlyList<PassedOver> PassedOver) : LaunchResult;

    /// <summary>The box already has a live instance (pending, running, stopping or stopped); nothing was launched.</summary>
    public sealed record AlreadyRunning(BoxInstance Instance) : LaunchResult;

    /// <summary>No instance: <paramref name="Reason"/> says why in one sentence, <paramref name="PassedOver"/> every candidate's reason.</summary>
    public sealed record Failed(LaunchFailure Failure, string Reason, IReadOnlyList<PassedOver> PassedOver) : LaunchResult;
}
