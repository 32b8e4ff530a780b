using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Aws.Metadata;

/// <summary>
/// The EC2 instance metadata service over plain HTTP, IMDSv2 first. Every fault (HTTP errors, timeouts,
/// refused connections, bodies it cannot read) becomes an unknown reading; only the caller's
/// cancellation throws. Nothing is cached but the session token: each call reads the service again.
/// </summary>
/// <remarks>
/// Token rules, with the failures of other tools they avoid:
/// one PUT per token lifetime, replaced <see cref="MetadataOptions.TokenRefreshBefore"/> before it
/// expires, shared by concurrent callers; a 401 drops it and retries the read once with a new one
/// (pollers that never recover from a 401, NTH #229/#668); after a failed PUT no new PUT for
/// <see cref="MetadataOptions.TokenRetryCooldown"/>, so a PUT that times out (hop limit) does not
/// stall every poll for seconds (NTH #399/#406). The token never appears in a log line or a reason.
/// </remarks>
public sealed partial class ImdsMetadataClient : IMetadataClient, IDisposable
{
    internal const string TokenHeader = "X-aws-ec2-metadata-token";
    internal const string TokenTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
    internal const string TokenPath = "latest/api/token";
    internal const string InstanceActionPath = "latest/meta-data/spot/instance-action";
    internal const string RebalancePath = "latest/meta-data/events/recommendations/rebalance";
    internal const string ScheduledEventsPath = "latest/meta-data/events/maintenance/scheduled";
    internal const string IdentityDocumentPath = "latest/dynamic/instance-identity/document";
    internal const string LifecyclePath = "latest/meta-data/instance-life-cycle";

    /// <summary>The largest body read; IMDS items are a few hundred bytes.</summary>
    private const int MaxBodyBytes = 64 * 1024;

    /// <summary>Distinct unknown actions logged at warning level at most this many times (a bound, not a policy).</summary>
    private const int MaxLoggedUnknownActions = 16;

    private readonly HttpClient _http;
    private readonly MetadataOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _tokenLock = new(1, 1);
    private readonly HashSet<string> _loggedUnknownActions = [];

    private SessionToken? _token;

    // Guarded by _tokenLock.
    private DateTimeOffset _noTokenRequestBefore = DateTimeOffset.MinValue;
    private string _lastTokenFailure = "";

    public ImdsMetadataClient(IOptions<MetadataOptions> options, TimeProvider timeProvider, ILogger<ImdsMetadataClient> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        var baseUrl = _options.BaseUrl.AbsoluteUri.EndsWith('/') ? _options.BaseUrl : new Uri(_options.BaseUrl.AbsoluteUri + "/");
        _http = new HttpClient(CreateHandler(_options), disposeHandler: true)
        {
            BaseAddress = baseUrl,
            // Each request has its own timeout from the options, measured on the injected clock.
            Timeout = Timeout.InfiniteTimeSpan,
            MaxResponseContentBufferSize = MaxBodyBytes,
        };
    }

    /// <summary>
    /// No proxy ever: HTTP_PROXY must not see metadata requests (nor could a proxy reach the link-local
    /// address). No redirects: the service never sends one.
    /// </summary>
    internal static SocketsHttpHandler CreateHandler(MetadataOptions options) => new()
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectTimeout = options.RequestTimeout,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
    };

    public async Task<MetadataReading<InstanceAction>> GetInstanceActionAsync(CancellationToken cancellationToken)
    {
        var reading = await GetStringAsync(InstanceActionPath, cancellationToken);
        if (reading is not MetadataReading<string>.Present(var body))
        {
            return Carry<InstanceAction>(reading);
        }

        var parsed = ImdsParser.ParseInstanceAction(body);
        if (parsed is MetadataReading<InstanceAction>.Unknown(var reason))
        {
            LogUnreadableNotice(reason);
        }

        return parsed;
    }

    public async Task<MetadataReading<RebalanceRecommendation>> GetRebalanceRecommendationAsync(CancellationToken cancellationToken)
    {
        var reading = await GetStringAsync(RebalancePath, cancellationToken);
        return reading is MetadataReading<string>.Present(var body) ? ImdsParser.ParseRebalance(body) : Carry<RebalanceRecommendation>(reading);
    }

    public async Task<MetadataReading<IReadOnlyList<MaintenanceEvent>>> GetScheduledEventsAsync(CancellationToken cancellationToken)
    {
        var reading = await GetStringAsync(ScheduledEventsPath, cancellationToken);
        return reading is MetadataReading<string>.Present(var body) ? ImdsParser.ParseScheduledEvents(body) : Carry<IReadOnlyList<MaintenanceEvent>>(reading);
    }

    public async Task<MetadataReading<InstanceIdentity>> GetIdentityAsync(CancellationToken cancellationToken)
    {
        var document = await GetStringAsync(IdentityDocumentPath, cancellationToken);
        if (document is not MetadataReading<string>.Present(var documentBody))
        {
            return Carry<InstanceIdentity>(document);
        }

        var lifecycle = await GetStringAsync(LifecyclePath, cancellationToken);
        return lifecycle switch
        {
            MetadataReading<string>.Present(var life) => ImdsParser.ParseIdentity(documentBody, life),
            MetadataReading<string>.Unknown(var reason) => MetadataReading.Unknown<InstanceIdentity>(reason),
            _ => MetadataReading.Unknown<InstanceIdentity>($"{LifecyclePath} is missing (404) although the identity document is there"),
        };
    }

    public void Dispose()
    {
        _http.Dispose();
        _tokenLock.Dispose();
    }

    private static MetadataReading<T> Carry<T>(MetadataReading<string> reading) => reading switch
    {
        MetadataReading<string>.Unknown(var reason) => MetadataReading.Unknown<T>(reason),
        _ => MetadataReading.Absent<T>(),
    };

    /// <summary>A GET with the IMDSv2 token; a 401 gets one retry with a new token.</summary>
    private async Task<MetadataReading<string>> GetStringAsync(string path, CancellationToken cancellationToken)
    {
        var token = await GetTokenAsync(cancellationToken);
        if (token.Token is null && !_options.AllowV1Fallback)
        {
            return Unknown(path, token.Failure);
        }

        var reply = await SendAsync(HttpMethod.Get, path, token.Token?.Value, ttlSeconds: null, _options.RequestTimeout, cancellationToken);
        if (reply.Status == HttpStatusCode.Unauthorized)
        {
            if (token.Token is null)
            {
                // IMDSv1 was tried because no token could be had; the instance requires IMDSv2.
                return Unknown(path, $"HTTP 401 without a token (the instance requires IMDSv2); no token because {token.Failure}");
            }

            DropToken(token.Token);
            LogTokenRejected(path);
            var fresh = await GetTokenAsync(cancellationToken);
            if (fresh.Token is null)
            {
                return Unknown(path, $"HTTP 401 and no new token: {fresh.Failure}");
            }

            reply = await SendAsync(HttpMethod.Get, path, fresh.Token.Value, ttlSeconds: null, _options.RequestTimeout, cancellationToken);
            if (reply.Status == HttpStatusCode.Unauthorized)
            {
                DropToken(fresh.Token);
                return Unknown(path, "HTTP 401 again with a new token");
            }
        }

        return reply.Failure is not null
            ? Unknown(path, reply.Failure)
            : reply.Status switch
            {
                HttpStatusCode.OK => MetadataReading.Present(reply.Body),
                HttpStatusCode.NotFound => MetadataReading.Absent<string>(),
                HttpStatusCode.Forbidden => Unknown(path, "HTTP 403: the metadata service is disabled for this instance or refused the request"),
                HttpStatusCode.TooManyRequests => Unknown(path, "HTTP 429: throttled"),
                var other => Unknown(path, $"HTTP {(int)other}"),
            };
    }

    private MetadataReading<string> Unknown(string path, string reason)
    {
        LogUnknownReading(_logger, path, reason);
        return MetadataReading.Unknown<string>(reason);
    }

    private async Task<TokenLookup> GetTokenAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _token);
        if (current is not null && _time.GetUtcNow() < current.RefreshAt)
        {
            return new TokenLookup(current, "");
        }

        // One PUT for all callers: the rest wait for it and take its token.
        await _tokenLock.WaitAsync(cancellationToken);
        try
        {
            var now = _time.GetUtcNow();
            current = Volatile.Read(ref _token);
            if (current is not null && now < current.RefreshAt)
            {
                return new TokenLookup(current, "");
            }

            var stillValid = current is not null && now < current.ExpiresAt ? current : null;
            if (now < _noTokenRequestBefore)
            {
                return new TokenLookup(stillValid, $"{_lastTokenFailure} (no new token request before {_noTokenRequestBefore:u})");
            }

            var ttlSeconds = (int)_options.TokenTtl.TotalSeconds;
            var reply = await SendAsync(HttpMethod.Put, TokenPath, token: null, ttlSeconds, _options.TokenRequestTimeout, cancellationToken);
            var failure = reply switch
            {
                { Failure: not null } => $"token request: {reply.Failure}",
                { Status: HttpStatusCode.OK } when !string.IsNullOrWhiteSpace(reply.Body) => null,
                { Status: HttpStatusCode.OK } => "token request: HTTP 200 with an empty token",
                { Status: HttpStatusCode.Forbidden } => "token request: HTTP 403: the metadata service is disabled for this instance",
                { Status: HttpStatusCode.BadRequest } => $"token request: HTTP 400 (TTL of {ttlSeconds} s refused)",
                _ => $"token request: HTTP {(int)reply.Status}",
            };
            if (failure is null)
            {
                // The lifetime counts from when the PUT was sent, so the token expires here no later than there.
                var expiresAt = now + TimeSpan.FromSeconds(ttlSeconds);
                var token = new SessionToken(reply.Body.Trim(), expiresAt, expiresAt - _options.TokenRefreshBefore);
                Volatile.Write(ref _token, token);
                LogTokenObtained(_logger, expiresAt);
                return new TokenLookup(token, "");
            }

            _noTokenRequestBefore = _time.GetUtcNow() + _options.TokenRetryCooldown;
            _lastTokenFailure = failure;
            LogTokenFailed(_logger, failure, _options.TokenRetryCooldown);
            return new TokenLookup(stillValid, failure);
        }
        finally
        {
            _tokenLock.Release();
        }
    }

    /// <summary>Forgets the token unless another caller already replaced it.</summary>
    private void DropToken(SessionToken rejected) => Interlocked.CompareExchange(ref _token, null, rejected);

    private async Task<Reply> SendAsync(HttpMethod method, string path, string? token, int? ttlSeconds, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        using var request = new HttpRequestMessage(method, path);
        // Headers go on each request, never on DefaultRequestHeaders: exactly one token header, always.
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation(TokenHeader, token);
        }

        if (ttlSeconds is { } ttl)
        {
            request.Headers.TryAddWithoutValidation(TokenTtlHeader, ttl.ToString(CultureInfo.InvariantCulture));
        }

        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token);
            var body = response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync(linked.Token) : "";
            return new Reply(response.StatusCode, body, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Reply(0, "", $"no reply within {timeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException e)
        {
            return new Reply(0, "", $"request failed: {e.Message}");
        }
        catch (IOException e)
        {
            return new Reply(0, "", $"connection failed: {e.Message}");
        }
        catch (System.Net.Sockets.SocketException e)
        {
            return new Reply(0, "", $"connection failed: {e.Message}");
        }
    }

    private void LogUnreadableNotice(string reason)
    {
        lock (_loggedUnknownActions)
        {
            if (_loggedUnknownActions.Count >= MaxLoggedUnknownActions || !_loggedUnknownActions.Add(reason))
            {
                return;
            }
        }

        LogNoticeNotUnderstood(_logger, reason);
    }

    private void LogTokenRejected(string path) => LogTokenRejectedMessage(_logger, path);

    private sealed record SessionToken(string Value, DateTimeOffset ExpiresAt, DateTimeOffset RefreshAt)
    {
        // The token is a secret: never in a log line, not even through a record's ToString.
        public override string ToString() => $"SessionToken(expires {ExpiresAt:u})";
    }

    private readonly record struct TokenLookup(SessionToken? Token, string Failure);

    private readonly record struct Reply(HttpStatusCode Status, string Body, string? Failure);

    [LoggerMessage(EventId = 3950, Level = LogLevel.Debug, Message = "IMDS session token obtained, valid until {ExpiresAt:u}")]
    private static partial void LogTokenObtained(ILogger logger, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 3951, Level = LogLevel.Debug, Message = "IMDS session token not obtained ({Reason}); no new request for {Cooldown}")]
    private static partial void LogTokenFailed(ILogger logger, string reason, TimeSpan cooldown);

    [LoggerMessage(EventId = 3952, Level = LogLevel.Debug, Message = "IMDS refused the session token on {Path} (401); getting a new one and retrying once")]
    private static partial void LogTokenRejectedMessage(ILogger logger, string path);

    [LoggerMessage(EventId = 3953, Level = LogLevel.Debug, Message = "IMDS {Path} unknown: {Reason}")]
    private static partial void LogUnknownReading(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 3954, Level = LogLevel.Warning, Message = "IMDS spot/instance-action answered something that is not a notice; it is not acted on: {Reason}")]
    private static partial void LogNoticeNotUnderstood(ILogger logger, string reason);
}
