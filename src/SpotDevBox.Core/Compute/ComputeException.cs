namespace SpotDevBox.Core.Compute;

/// <summary>Why an EC2 call (other than a launch, which returns a <see cref="LaunchOutcome"/>) failed.</summary>
public enum ComputeFailure
{
    /// <summary>The credentials are missing, invalid, or not allowed this action.</summary>
    Unauthorized,

    /// <summary>EC2 kept throttling after the SDK's retries; try again later.</summary>
    Throttled,

    /// <summary>The instance (or image) does not exist.</summary>
    NotFound,

    /// <summary>EC2 refused the request as wrong; the same request will be refused again.</summary>
    Rejected,

    /// <summary>EC2 could not be reached, timed out, or failed on its side; trying again later may work.</summary>
    Unavailable,

    /// <summary>
    /// The instance is not in a state that allows the call (EC2's <c>IncorrectInstanceState</c>): still
    /// pending, so the same call works once it is running; or already ending, so the next look finds it gone.
    /// </summary>
    NotReady,
}

public sealed class ComputeException : Exception
{
    public ComputeException(ComputeFailure failure, string message, Exception? innerException = null)
        : base(message, innerException) => Failure = failure;

    public ComputeException() : this(ComputeFailure.Unavailable, "EC2 call failed") { }

    public ComputeException(string message) : this(ComputeFailure.Unavailable, message) { }

    public ComputeException(string message, Exception innerException) : this(ComputeFailure.Unavailable, message, innerException) { }

    public ComputeFailure Failure { get; }
}
