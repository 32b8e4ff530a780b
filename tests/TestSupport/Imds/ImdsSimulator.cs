using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SpotDevBox.Core.Interruption;

namespace TestSupport.Imds;

/// <summary>
/// The EC2 instance metadata service on a loopback port, faults included, for the real client and for
/// an end-to-end agent process. Tokens expire and relative notice times are taken on the simulator's
/// <see cref="TimeProvider"/> (a FakeTimeProvider in timing tests); slow replies are held for wall-clock
/// time, since they exist to outlast a real client's timeout.
/// </summary>
public sealed class ImdsSimulator : IAsyncDisposable
{
    private const string TokenHeader = "X-aws-ec2-metadata-token";
    private const string TokenTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
    private const int MaxTokenTtlSeconds = 21600;
    private const string TruncatedJson = "{\"action\": \"terminate\", \"time\": \"2017-09-18T08:2";

    private static readonly JsonSerializerOptions Compact = new();
    private static readonly JsonSerializerOptions TabIndented = new() { WriteIndented = true, IndentCharacter = '\t', IndentSize = 1 };

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);
    private readonly List<ArmedFault> _faults = [];
    private readonly List<ImdsRequest> _requests = [];
    private WebApplication? _app;

    private (InstanceActionKind Kind, DateTimeOffset Time, DateTimeOffset VisibleFrom)? _notice;
    private (DateTimeOffset NoticeTime, DateTimeOffset VisibleFrom)? _rebalance;

    // Moving-time mode, as amazon-ec2-metadata-mock serves by default: the time is recomputed on every read.
    private TimeSpan? _noticeLead;
    private TimeSpan? _rebalanceLead;
    private string _scheduledEvents = "[]";

    private ImdsSimulator(TimeProvider timeProvider)
    {
        _time = timeProvider;
    }

    /// <summary>e.g. <c>http://127.0.0.1:41234</c>; what <c>Agent:Metadata:BaseUrl</c> is set to.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    public ImdsMode Mode
    {
        get { lock (_gate) { return field; } }
        set { lock (_gate) { field = value; } }
    } = ImdsMode.V2Required;

    public ImdsBodyStyle BodyStyle
    {
        get { lock (_gate) { return field; } }
        set { lock (_gate) { field = value; } }
    } = ImdsBodyStyle.Ec2;

    public SimulatedInstance Instance
    {
        get { lock (_gate) { return field; } }
        set { lock (_gate) { field = value ?? throw new ArgumentNullException(nameof(value)); } }
    } = new();

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<ImdsRequest> Requests
    {
        get { lock (_gate) { return [.. _requests]; } }
    }

    /// <summary>How many tokens were issued and are still unexpired on the simulator's clock.</summary>
    public int LiveTokenCount
    {
        get
        {
            var now = _time.GetUtcNow();
            lock (_gate)
            {
                return _tokens.Values.Count(expiry => now < expiry);
            }
        }
    }

    public static async Task<ImdsSimulator> StartAsync(TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        var simulator = new ImdsSimulator(timeProvider ?? TimeProvider.System);
        var (app, url) = await LoopbackHttpServer.StartAsync(simulator.HandleAsync, cancellationToken);
        simulator.BaseUrl = url;
        simulator._app = app;
        return simulator;
    }

    /// <summary>The spot notice, with a time pinned now (it never moves per request) and visible from <paramref name="visibleFrom"/> (default: at once).</summary>
    public void ArmNotice(InstanceActionKind kind, DateTimeOffset time, DateTimeOffset? visibleFrom = null)
    {
        lock (_gate)
        {
            _notice = (kind, Truncate(time), visibleFrom ?? DateTimeOffset.MinValue);
            _noticeLead = null;
        }
    }

    /// <summary>The spot notice with a time <paramref name="leadTime"/> after now on the simulator's clock, pinned at arming.</summary>
    public DateTimeOffset ArmNotice(InstanceActionKind kind, TimeSpan leadTime)
    {
        var time = _time.GetUtcNow() + leadTime;
        ArmNotice(kind, time);
        return Truncate(time);
    }

    /// <summary>
    /// The spot notice in moving-time mode, as amazon-ec2-metadata-mock serves it: every read answers
    /// <c>time</c> = now on the simulator's clock + <paramref name="leadTime"/>, so no two reads a second
    /// apart carry the same time. Replaces a pinned notice.
    /// </summary>
    public void ArmMovingNotice(InstanceActionKind kind, TimeSpan leadTime)
    {
        lock (_gate)
        {
            _notice = (kind, DateTimeOffset.MinValue, DateTimeOffset.MinValue);
            _noticeLead = leadTime;
        }
    }

    public void ClearNotice()
    {
        lock (_gate)
        {
            _notice = null;
            _noticeLead = null;
        }
    }

    public void ArmRebalance(DateTimeOffset noticeTime, DateTimeOffset? visibleFrom = null)
    {
        lock (_gate)
        {
            _rebalance = (Truncate(noticeTime), visibleFrom ?? DateTimeOffset.MinValue);
            _rebalanceLead = null;
        }
    }

    /// <summary>A rebalance recommendation whose <c>noticeTime</c> is recomputed on every read (now + <paramref name="offset"/>), as the AWS mock serves it.</summary>
    public void ArmMovingRebalance(TimeSpan offset = default)
    {
        lock (_gate)
        {
            _rebalance = (DateTimeOffset.MinValue, DateTimeOffset.MinValue);
            _rebalanceLead = offset;
        }
    }

    /// <summary>A rebalance recommendation emitted now on the simulator's clock (pinned).</summary>
    public DateTimeOffset ArmRebalance()
    {
        var time = Truncate(_time.GetUtcNow());
        ArmRebalance(time);
        return time;
    }

    public void ClearRebalance()
    {
        lock (_gate)
        {
            _rebalance = null;
            _rebalanceLead = null;
        }
    }

    /// <summary>The scheduled-events list, written the way EC2 writes it (times as <c>d MMM yyyy HH:mm:ss GMT</c>).</summary>
    public void SetScheduledEvents(IEnumerable<MaintenanceEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var items = events.Select(e =>
        {
            var item = new Dictionary<string, string>
            {
                ["NotBefore"] = FormatMaintenanceTime(e.NotBefore),
                ["Code"] = e.Code,
                ["Description"] = e.Description,
                ["EventId"] = e.EventId,
            };
            if (e.NotAfter is { } notAfter)
            {
                item["NotAfter"] = FormatMaintenanceTime(notAfter);
            }

            item["State"] = e.State;
            return item;
        }).ToList();
        SetScheduledEventsBody(JsonSerializer.Serialize(items, Compact));
    }

    /// <summary>The scheduled-events body verbatim, for bodies the typed form cannot express.</summary>
    public void SetScheduledEventsBody(string body)
    {
        lock (_gate)
        {
            _scheduledEvents = body;
        }
    }

    public void InjectFault(ImdsFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        lock (_gate)
        {
            _faults.Add(new ArmedFault(fault, fault.Times));
        }
    }

    public void ClearFaults()
    {
        lock (_gate)
        {
            _faults.Clear();
        }
    }

    public void ClearRequests()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }

    /// <summary>Every issued token becomes invalid: the next GET with one gets 401.</summary>
    public void RevokeTokens()
    {
        lock (_gate)
        {
            _tokens.Clear();
        }
    }

    /// <summary>Waits (wall-clock) until the request log satisfies <paramref name="condition"/>; false on timeout.</summary>
    public async Task<bool> WaitForRequestsAsync(Func<IReadOnlyList<ImdsRequest>, bool> condition, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var until = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!condition(Requests))
        {
            if (Environment.TickCount64 > until)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_app is not null)
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(stopTimeout.Token);
            await _app.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private static DateTimeOffset Truncate(DateTimeOffset time) =>
        new DateTimeOffset(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    private static string FormatRfc3339(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string FormatMaintenanceTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("d MMM yyyy HH:mm:ss 'GMT'", CultureInfo.InvariantCulture);

    private static int CountValues(Microsoft.Extensions.Primitives.StringValues values) =>
        values.Sum(v => v is null ? 0 : v.Split(',').Count(part => part.Trim().Length > 0));

    private async Task HandleAsync(HttpContext context)
    {
        var method = context.Request.Method;
        var path = context.Request.Path.Value ?? "/";
        var tokenValues = context.Request.Headers[TokenHeader];
        var ttlValues = context.Request.Headers[TokenTtlHeader];
        var reply = Decide(method, path, tokenValues, ttlValues, context.Request.Headers.ContainsKey("X-Forwarded-For"));

        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        try
        {
            if (reply.Hold is { } hold)
            {
                await Task.Delay(hold, aborted.Token);
            }
        }
        catch (OperationCanceledException)
        {
            context.Abort();
            return;
        }

        context.Response.StatusCode = reply.Status;
        if (reply.Body.Length > 0)
        {
            context.Response.ContentType = reply.ContentType;
            await context.Response.WriteAsync(reply.Body, Encoding.UTF8, aborted.Token);
        }
    }

    private Reply Decide(string method, string path, Microsoft.Extensions.Primitives.StringValues tokenValues, Microsoft.Extensions.Primitives.StringValues ttlValues, bool forwarded)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var reply = ApplyFault(method, path, out var slow) ?? Serve(method, path, tokenValues, ttlValues, forwarded, now);
            if (slow is { } delay && reply.Hold is null)
            {
                reply = reply with { Hold = delay };
            }

            _requests.Add(new ImdsRequest(now, method, path, CountValues(tokenValues), ttlValues.Count > 0 ? ttlValues.ToString() : null, reply.NoAnswer ? ImdsRequest.NoReply : reply.Status));
            return reply;
        }
    }

    private Reply? ApplyFault(string method, string path, out TimeSpan? slow)
    {
        slow = null;
        foreach (var armed in _faults)
        {
            if (armed.Remaining is 0 || !armed.Fault.Matches(method, path))
            {
                continue;
            }

            if (armed.Fault.Every > 1 && armed.Matched++ % armed.Fault.Every != 0)
            {
                continue;
            }

            if (armed.Remaining is { } remaining)
            {
                armed.Remaining = remaining - 1;
            }

            switch (armed.Fault.Kind)
            {
                case ImdsFaultKind.Status:
                    return new Reply(armed.Fault.StatusCode, "", "text/plain");
                case ImdsFaultKind.NoReply:
                    return new Reply(0, "", "text/plain") { Hold = Timeout.InfiniteTimeSpan, NoAnswer = true };
                case ImdsFaultKind.MalformedJson:
                    return new Reply(200, TruncatedJson, "text/plain");
                case ImdsFaultKind.Body:
                    return new Reply(200, armed.Fault.Body, "text/plain");
                case ImdsFaultKind.SlowReply:
                    slow = armed.Fault.Delay;
                    return null;
            }
        }

        return null;
    }

    private Reply Serve(string method, string path, Microsoft.Extensions.Primitives.StringValues tokenValues, Microsoft.Extensions.Primitives.StringValues ttlValues, bool forwarded, DateTimeOffset now)
    {
        if (Mode == ImdsMode.Disabled)
        {
            return new Reply(403, "", "text/plain");
        }

        if (method == "PUT")
        {
            return path == ImdsPaths.Token ? IssueToken(ttlValues, forwarded, now) : new Reply(405, "", "text/plain");
        }

        if (method != "GET" && method != "HEAD")
        {
            return new Reply(405, "", "text/plain");
        }

        var tokenCount = CountValues(tokenValues);
        if (tokenCount > 0)
        {
            // Two token headers are not one valid token.
            if (tokenCount != 1 || !_tokens.TryGetValue(tokenValues.ToString().Trim(), out var expiry) || now >= expiry)
            {
                return new Reply(401, "", "text/plain");
            }
        }
        else if (Mode == ImdsMode.V2Required)
        {
            return new Reply(401, "", "text/plain");
        }

        return Content(path, now);
    }

    private Reply IssueToken(Microsoft.Extensions.Primitives.StringValues ttlValues, bool forwarded, DateTimeOffset now)
    {
        // EC2 refuses a token PUT that went through a proxy.
        if (forwarded)
        {
            return new Reply(403, "", "text/plain");
        }

        if (ttlValues.Count != 1
            || !int.TryParse(ttlValues.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var ttl)
            || ttl < 1 || ttl > MaxTokenTtlSeconds)
        {
            return new Reply(400, "", "text/plain");
        }

        var token = "AQAEA" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(39)).Replace('+', '-').Replace('/', '_');
        _tokens[token] = now + TimeSpan.FromSeconds(ttl);
        return new Reply(200, token, "text/plain");
    }

    private Reply Content(string path, DateTimeOffset now)
    {
        var instance = Instance;
        return path switch
        {
            ImdsPaths.InstanceAction => _notice is { } n && now >= n.VisibleFrom
                ? Json(new Dictionary<string, string> { ["action"] = n.Kind.ToString().ToLowerInvariant(), ["time"] = FormatRfc3339(_noticeLead is { } lead ? now + lead : n.Time) })
                : NotFound(),
            // Only a termination sets the legacy item; it keeps its (then past) time if EC2 fails to terminate.
            ImdsPaths.TerminationTime => _notice is { Kind: InstanceActionKind.Terminate } t && now >= t.VisibleFrom
                ? Text(FormatRfc3339(_noticeLead is { } legacyLead ? now + legacyLead : t.Time))
                : NotFound(),
            // Not the spot notice: the top-level item says "none" on every instance.
            ImdsPaths.TopLevelInstanceAction => Text("none"),
            ImdsPaths.Rebalance => _rebalance is { } r && now >= r.VisibleFrom
                ? Json(new Dictionary<string, string> { ["noticeTime"] = FormatRfc3339(_rebalanceLead is { } offset ? now + offset : r.NoticeTime) })
                : NotFound(),
            ImdsPaths.ScheduledEvents => Raw(_scheduledEvents),
            ImdsPaths.InstanceId => Text(instance.InstanceId),
            ImdsPaths.InstanceType => Text(instance.InstanceType),
            ImdsPaths.AvailabilityZone => Text(instance.AvailabilityZone),
            ImdsPaths.Region => Text(instance.Region),
            ImdsPaths.Lifecycle => Text(instance.Lifecycle),
            ImdsPaths.IdentityDocument => Json(new Dictionary<string, string?>
            {
                ["accountId"] = instance.AccountId,
                ["architecture"] = "x86_64",
                ["availabilityZone"] = instance.AvailabilityZone,
                ["imageId"] = "ami-0123456789abcdef0",
                ["instanceId"] = instance.InstanceId,
                ["instanceType"] = instance.InstanceType,
                ["pendingTime"] = "2024-01-01T00:00:00Z",
                ["privateIp"] = instance.PrivateIp,
                ["region"] = instance.Region,
                ["version"] = "2017-09-30",
            }),
            _ => NotFound(),
        };
    }

    private Reply Json<T>(T value) => BodyStyle == ImdsBodyStyle.Aemm
        ? new Reply(200, JsonSerializer.Serialize(value, TabIndented), "application/json")
        : new Reply(200, JsonSerializer.Serialize(value, Compact), "text/plain");

    private Reply Raw(string json) => new(200, json, BodyStyle == ImdsBodyStyle.Aemm ? "application/json" : "text/plain");

    private static Reply Text(string value) => new(200, value, "text/plain");

    private static Reply NotFound() => new(404, "", "text/plain");

    private sealed class ArmedFault(ImdsFault fault, int? remaining)
    {
        public ImdsFault Fault { get; } = fault;

        public int? Remaining { get; set; } = remaining;

        /// <summary>Matching requests seen, for <see cref="ImdsFault.Every"/>.</summary>
        public int Matched { get; set; }
    }

    private sealed record Reply(int Status, string Body, string ContentType)
    {
        public TimeSpan? Hold { get; init; }

        public bool NoAnswer { get; init; }
    }
}
