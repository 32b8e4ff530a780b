namespace TestSupport.Imds;

public enum ImdsFaultKind
{
    /// <summary>Answer with <see cref="ImdsFault.StatusCode"/> and an empty body.</summary>
    Status,

    /// <summary>Hold the reply for <see cref="ImdsFault.Delay"/> (wall-clock time), then answer normally.</summary>
    SlowReply,

    /// <summary>Never answer (the request is held until the client gives up): a PUT whose reply the hop limit drops.</summary>
    NoReply,

    /// <summary>Answer 200 with a truncated JSON body.</summary>
    MalformedJson,

    /// <summary>Answer 200 with <see cref="ImdsFault.Body"/> verbatim (an unknown action, an odd format).</summary>
    Body,
}

/// <summary>
/// A fault the simulator injects into matching requests: the next <see cref="Times"/> of them, or all
/// of them (null) until <see cref="ImdsSimulator.ClearFaults"/>. A request matches when its path starts
/// with <see cref="Path"/> (null: any path) and its method is <see cref="Method"/> (null: any method).
/// </summary>
public sealed record ImdsFault(ImdsFaultKind Kind, string? Path = null, int? Times = null, string? Method = null)
{
    public int StatusCode { get; init; }

    public TimeSpan Delay { get; init; }

    public string Body { get; init; } = "";

    /// <summary>Applies to one matching request in every <see cref="Every"/> (the first, then every Nth); the others are served normally. 2 makes a source flap.</summary>
    public int Every { get; init; } = 1;

    /// <summary>Every other matching request fails with <paramref name="statusCode"/>, the others are served: a source that flips between failing and working.</summary>
    public static ImdsFault Alternating(int statusCode, string? path = null) =>
        new(ImdsFaultKind.Status, path, null, "GET") { StatusCode = statusCode, Every = 2 };

    public static ImdsFault Status(int statusCode, string? path = null, int? times = null, string? method = null) =>
        new(ImdsFaultKind.Status, path, times, method) { StatusCode = statusCode };

    public static ImdsFault Slow(TimeSpan delay, string? path = null, int? times = null, string? method = null) =>
        new(ImdsFaultKind.SlowReply, path, times, method) { Delay = delay };

    public static ImdsFault NoReply(string? path = null, int? times = null, string? method = null) =>
        new(ImdsFaultKind.NoReply, path, times, method);

    /// <summary>The token PUT is never answered: what a container one hop too far sees.</summary>
    public static ImdsFault TokenTimeout(int? times = null) => NoReply(ImdsPaths.Token, times, "PUT");

    public static ImdsFault MalformedJson(string? path = null, int? times = null) =>
        new(ImdsFaultKind.MalformedJson, path, times, "GET");

    public static ImdsFault WithBody(string body, string path, int? times = null) =>
        new(ImdsFaultKind.Body, path, times, "GET") { Body = body };

    internal bool Matches(string method, string path) =>
        (Path is null || path.StartsWith(Path, StringComparison.Ordinal))
        && (Method is null || string.Equals(Method, method, StringComparison.OrdinalIgnoreCase));
}

/// <summary>One request the simulator received. <see cref="Status"/> is what it answered (0: no answer).</summary>
public sealed record ImdsRequest(DateTimeOffset Time, string Method, string Path, int TokenHeaderCount, string? TtlHeader, int Status)
{
    public const int NoReply = 0;

    public bool HadToken => TokenHeaderCount > 0;

    public bool IsTokenPut => Method == "PUT" && Path == ImdsPaths.Token;

    public override string ToString() => $"{Method} {Path} -> {Status} (token headers: {TokenHeaderCount})";
}

public static class ImdsPaths
{
    public const string Token = "/latest/api/token";
    public const string InstanceAction = "/latest/meta-data/spot/instance-action";
    public const string TerminationTime = "/latest/meta-data/spot/termination-time";
    public const string TopLevelInstanceAction = "/latest/meta-data/instance-action";
    public const string Rebalance = "/latest/meta-data/events/recommendations/rebalance";
    public const string ScheduledEvents = "/latest/meta-data/events/maintenance/scheduled";
    public const string InstanceId = "/latest/meta-data/instance-id";
    public const string InstanceType = "/latest/meta-data/instance-type";
    public const string AvailabilityZone = "/latest/meta-data/placement/availability-zone";
    public const string Region = "/latest/meta-data/placement/region";
    public const string Lifecycle = "/latest/meta-data/instance-life-cycle";
    public const string IdentityDocument = "/latest/dynamic/instance-identity/document";
}

/// <summary>The instance the simulator pretends to be.</summary>
public sealed record SimulatedInstance(
    string InstanceId = "i-1234567890abcdef0",
    string InstanceType = "m5.large",
    string AvailabilityZone = "us-east-1a",
    string Region = "us-east-1",
    string Lifecycle = "spot",
    string AccountId = "123456789012",
    string PrivateIp = "10.0.0.12");

public enum ImdsMode
{
    /// <summary><c>HttpTokens=required</c>: a GET without a token is 401.</summary>
    V2Required,

    /// <summary><c>HttpTokens=optional</c>: a GET without a token is served; an invalid token is still 401.</summary>
    V1Allowed,

    /// <summary>The endpoint is disabled: everything is 403.</summary>
    Disabled,
}

public enum ImdsBodyStyle
{
    /// <summary>As EC2: compact JSON, <c>text/plain</c>.</summary>
    Ec2,

    /// <summary>As amazon-ec2-metadata-mock: tab-indented JSON, <c>application/json</c>.</summary>
    Aemm,
}
