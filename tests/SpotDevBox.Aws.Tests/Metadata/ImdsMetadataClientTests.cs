using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Aws.Metadata;
using SpotDevBox.Core.Interruption;
using TestSupport.Imds;

namespace SpotDevBox.Aws.Tests.Metadata;

/// <summary>
/// The real client against the simulator over loopback. Expected request sequences are written from
/// the IMDSv2 rules in the reference: one PUT per token, one token header per GET, one retry after a 401.
/// </summary>
public sealed class ImdsMetadataClientTests : IAsyncLifetime
{
    private static readonly DateTimeOffset NoticeTime = new(2017, 9, 18, 8, 22, 0, TimeSpan.Zero);

    private ImdsSimulator _simulator = null!;
    private readonly CapturingLogger<ImdsMetadataClient> _logger = new();

    public async Task InitializeAsync() => _simulator = await ImdsSimulator.StartAsync();

    public async Task DisposeAsync() => await _simulator.DisposeAsync();

    [Fact]
    public async Task GetInstanceActionAsync_NoNotice_PutsTokenThenGetsWithExactlyOneTokenHeader()
    {
        using var client = CreateClient();

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        Assert.IsType<MetadataReading<InstanceAction>.Absent>(reading);
        var requests = _simulator.Requests;
        Assert.Collection(
            requests,
            put =>
            {
                Assert.Equal(("PUT", ImdsPaths.Token, 200, "21600", 0), (put.Method, put.Path, put.Status, put.TtlHeader, put.TokenHeaderCount));
            },
            get => Assert.Equal(("GET", ImdsPaths.InstanceAction, 404, 1), (get.Method, get.Path, get.Status, get.TokenHeaderCount)));
    }

    [Theory]
    [InlineData(InstanceActionKind.Terminate)]
    [InlineData(InstanceActionKind.Stop)]
    [InlineData(InstanceActionKind.Hibernate)]
    public async Task GetInstanceActionAsync_NoticeArmed_ReturnsActionAndItsTime(InstanceActionKind kind)
    {
        _simulator.ArmNotice(kind, NoticeTime);
        using var client = CreateClient();

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        Assert.Equal(MetadataReading.Present(new InstanceAction(kind, NoticeTime)), reading);
    }

    [Fact]
    public async Task GetInstanceActionAsync_NoticeArmedRelative_TimeStaysPinnedAcrossReads()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero));
        await using var simulator = await ImdsSimulator.StartAsync(clock);
        simulator.ArmNotice(InstanceActionKind.Terminate, TimeSpan.FromMinutes(2));
        using var client = CreateClient(simulator, clock);

        var first = await client.GetInstanceActionAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(30));
        var second = await client.GetInstanceActionAsync(CancellationToken.None);

        var expected = MetadataReading.Present(new InstanceAction(InstanceActionKind.Terminate, new DateTimeOffset(2024, 5, 1, 12, 2, 0, TimeSpan.Zero)));
        Assert.Equal(expected, first);
        Assert.Equal(expected, second);
    }

    [Fact]
    public async Task GetInstanceActionAsync_NoticeAppearsLater_IsNotCached()
    {
        using var client = CreateClient();

        var before = await client.GetInstanceActionAsync(CancellationToken.None);
        _simulator.ArmNotice(InstanceActionKind.Stop, NoticeTime);
        var after = await client.GetInstanceActionAsync(CancellationToken.None);
        _simulator.ClearNotice();
        var cleared = await client.GetInstanceActionAsync(CancellationToken.None);

        Assert.IsType<MetadataReading<InstanceAction>.Absent>(before);
        Assert.Equal(MetadataReading.Present(new InstanceAction(InstanceActionKind.Stop, NoticeTime)), after);
        Assert.IsType<MetadataReading<InstanceAction>.Absent>(cleared);
    }

    [Fact]
    public async Task GetInstanceActionAsync_WithinTokenTtl_ReusesOneToken()
    {
        using var client = CreateClient();

        for (var i = 0; i < 5; i++)
        {
            await client.GetInstanceActionAsync(CancellationToken.None);
            await client.GetRebalanceRecommendationAsync(CancellationToken.None);
        }

        var requests = _simulator.Requests;
        Assert.Single(requests, r => r.IsTokenPut);
        Assert.Equal(10, requests.Count(r => r.Method == "GET" && r.TokenHeaderCount == 1 && r.Status == 404));
    }

    [Fact]
    public async Task GetInstanceActionAsync_TokenNearExpiry_RefreshesBeforeItExpires()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero));
        await using var simulator = await ImdsSimulator.StartAsync(clock);
        using var client = CreateClient(simulator, clock, o =>
        {
            o.TokenTtl = TimeSpan.FromSeconds(60);
            o.TokenRefreshBefore = TimeSpan.FromSeconds(10);
        });

        await client.GetInstanceActionAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(49));
        await client.GetInstanceActionAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(2));
        await client.GetInstanceActionAsync(CancellationToken.None);

        // PUT at 0 s (TTL 60), GET at 0 s and 49 s with it, new PUT at 51 s (within 10 s of expiry), GET.
        Assert.Equal(
            ["PUT 200", "GET 404", "GET 404", "PUT 200", "GET 404"],
            simulator.Requests.Select(r => $"{r.Method} {r.Status}"));
        Assert.All(simulator.Requests.Where(r => r.IsTokenPut), r => Assert.Equal("60", r.TtlHeader));
        Assert.DoesNotContain(simulator.Requests, r => r.Status == 401);
    }

    [Fact]
    public async Task GetInstanceActionAsync_TokenRejected_GetsOneNewTokenAndRetriesOnce()
    {
        using var client = CreateClient();
        await client.GetInstanceActionAsync(CancellationToken.None);
        _simulator.ArmNotice(InstanceActionKind.Terminate, NoticeTime);
        _simulator.RevokeTokens();
        _simulator.ClearRequests();

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        Assert.Equal(MetadataReading.Present(new InstanceAction(InstanceActionKind.Terminate, NoticeTime)), reading);
        Assert.Equal(
            [$"GET {ImdsPaths.InstanceAction} 401", $"PUT {ImdsPaths.Token} 200", $"GET {ImdsPaths.InstanceAction} 200"],
            _simulator.Requests.Select(r => $"{r.Method} {r.Path} {r.Status}"));
    }

    [Fact]
    public async Task GetInstanceActionAsync_UnauthorizedTwice_IsUnknownWithoutFurtherRetries()
    {
        _simulator.ArmNotice(InstanceActionKind.Terminate, NoticeTime);
        _simulator.InjectFault(ImdsFault.Status(401, ImdsPaths.InstanceAction, times: 2));
        using var client = CreateClient();

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        var unknown = Assert.IsType<MetadataReading<InstanceAction>.Unknown>(reading);
        Assert.Contains("401", unknown.Reason, StringComparison.Ordinal);
        Assert.Equal(["PUT 200", "GET 401", "PUT 200", "GET 401"], _simulator.Requests.Select(r => $"{r.Method} {r.Status}"));
    }

    [Fact]
    public async Task GetInstanceActionAsync_ImdsDisabled_IsUnknownAndNoGetIsSent()
    {
        _simulator.Mode = ImdsMode.Disabled;
        using var client = CreateClient();

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        var unknown = Assert.IsType<MetadataReading<InstanceAction>.Unknown>(reading);
        Assert.Contains("403", unknown.Reason, StringComparison.Ordinal);
        Assert.Equal(["PUT 403"], _simulator.Requests.Select(r => $"{r.Method} {r.Status}"));
    }

    [Theory]
    [InlineData(403)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task GetInstanceActionAsync_ErrorStatusOnGet_IsUnknownNeverANotice(int status)
    {
        _simulator.InjectFault(ImdsFault.Status(status, ImdsPaths.InstanceAction));
        using var client = CreateClient();

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        var unknown = Assert.IsType<MetadataReading<InstanceAction>.Unknown>(reading);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), unknown.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetInstanceActionAsync_ThrottledOnTokenPut_IsUnknown()
    {
        _simulator.InjectFault(ImdsFault.Status(429, ImdsPaths.Token, times: 1));
        using var client = CreateClient();

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        Assert.IsType<MetadataReading<InstanceAction>.Unknown>(reading);
        Assert.Equal(["PUT 429"], _simulator.Requests.Select(r => $"{r.Method} {r.Status}"));
    }

    [Fact]
    public async Task GetInstanceActionAsync_ReplySlowerThanTimeout_IsUnknownWithinTheTimeout()
    {
        _simulator.ArmNotice(InstanceActionKind.Terminate, NoticeTime);
        _simulator.InjectFault(ImdsFault.Slow(TimeSpan.FromSeconds(5), ImdsPaths.InstanceAction));
        using var client = CreateClient(configure: o => o.RequestTimeout = TimeSpan.FromMilliseconds(300));

        var watch = Stopwatch.StartNew();
        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        var unknown = Assert.IsType<MetadataReading<InstanceAction>.Unknown>(reading);
        Assert.Contains("no reply within 0.3 s", unknown.Reason, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task GetInstanceActionAsync_TokenPutTimesOut_NextReadDoesNotWaitOnAnotherPut()
    {
        _simulator.InjectFault(ImdsFault.TokenTimeout());
        using var client = CreateClient(configure: o =>
        {
            o.TokenRequestTimeout = TimeSpan.FromMilliseconds(300);
            o.TokenRetryCooldown = TimeSpan.FromSeconds(1);
        });

        var first = await client.GetInstanceActionAsync(CancellationToken.None);
        var watch = Stopwatch.StartNew();
        var second = await client.GetInstanceActionAsync(CancellationToken.None);
        var secondTook = watch.Elapsed;

        Assert.IsType<MetadataReading<InstanceAction>.Unknown>(first);
        Assert.IsType<MetadataReading<InstanceAction>.Unknown>(second);
        Assert.True(secondTook < TimeSpan.FromMilliseconds(200), $"second read took {secondTook}");
        Assert.Equal([$"PUT {ImdsPaths.Token} {ImdsRequest.NoReply}"], _simulator.Requests.Select(r => $"{r.Method} {r.Path} {r.Status}"));

        // After the cool-down a PUT is tried again, and with the fault gone, reads work.
        _simulator.ClearFaults();
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        var third = await client.GetInstanceActionAsync(CancellationToken.None);
        Assert.IsType<MetadataReading<InstanceAction>.Absent>(third);
        Assert.Equal(2, _simulator.Requests.Count(r => r.IsTokenPut));
    }

    [Fact]
    public async Task GetInstanceActionAsync_MalformedJson_IsUnknownNotANotice()
    {
        _simulator.InjectFault(ImdsFault.MalformedJson(ImdsPaths.InstanceAction));
        using var client = CreateClient();

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        var unknown = Assert.IsType<MetadataReading<InstanceAction>.Unknown>(reading);
        Assert.Contains("not valid JSON", unknown.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"action\": \"reboot\", \"time\": \"2017-09-18T08:22:00Z\"}", "unknown action 'reboot'")]
    [InlineData("{\"action\": \"terminate\"}", "no \"time\" string")]
    [InlineData("{\"action\": \"terminate\", \"time\": \"soon\"}", "not an RFC 3339 time")]
    [InlineData("none", "not valid JSON")]
    [InlineData("[]", "not a JSON object")]
    public async Task GetInstanceActionAsync_BodyNotANotice_IsUnknownWithReason(string body, string reasonPart)
    {
        _simulator.InjectFault(ImdsFault.WithBody(body, ImdsPaths.InstanceAction));
        using var client = CreateClient();

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        var unknown = Assert.IsType<MetadataReading<InstanceAction>.Unknown>(reading);
        Assert.Contains(reasonPart, unknown.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetInstanceActionAsync_UnknownAction_IsLoggedAsWarning()
    {
        _simulator.InjectFault(ImdsFault.WithBody("{\"action\": \"reboot\", \"time\": \"2017-09-18T08:22:00Z\"}", ImdsPaths.InstanceAction));
        using var client = CreateClient();

        await client.GetInstanceActionAsync(CancellationToken.None);
        await client.GetInstanceActionAsync(CancellationToken.None);

        var warning = Assert.Single(_logger.Lines, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.Contains("reboot", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetInstanceActionAsync_TabIndentedJsonAsApplicationJson_IsParsed()
    {
        _simulator.BodyStyle = ImdsBodyStyle.Aemm;
        _simulator.ArmNotice(InstanceActionKind.Hibernate, NoticeTime);
        _simulator.ArmRebalance(new DateTimeOffset(2020, 10, 27, 8, 22, 0, TimeSpan.Zero));
        using var client = CreateClient();

        var notice = await client.GetInstanceActionAsync(CancellationToken.None);
        var rebalance = await client.GetRebalanceRecommendationAsync(CancellationToken.None);

        Assert.Equal(MetadataReading.Present(new InstanceAction(InstanceActionKind.Hibernate, NoticeTime)), notice);
        Assert.Equal(MetadataReading.Present(new RebalanceRecommendation(new DateTimeOffset(2020, 10, 27, 8, 22, 0, TimeSpan.Zero))), rebalance);
    }

    [Fact]
    public async Task GetInstanceActionAsync_TabsAndNewlinesInBody_IsParsed()
    {
        _simulator.InjectFault(ImdsFault.WithBody("{\n\t\"action\":\t\"stop\",\n\t\"time\":\t\"2017-09-18T08:22:00Z\"\n}\n", ImdsPaths.InstanceAction));
        using var client = CreateClient();

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        Assert.Equal(MetadataReading.Present(new InstanceAction(InstanceActionKind.Stop, NoticeTime)), reading);
    }

    [Fact]
    public async Task GetRebalanceRecommendationAsync_NoneAndArmed_AbsentThenNoticeTime()
    {
        using var client = CreateClient();

        var none = await client.GetRebalanceRecommendationAsync(CancellationToken.None);
        _simulator.ArmRebalance(new DateTimeOffset(2020, 10, 27, 8, 22, 0, TimeSpan.Zero));
        var armed = await client.GetRebalanceRecommendationAsync(CancellationToken.None);

        Assert.IsType<MetadataReading<RebalanceRecommendation>.Absent>(none);
        Assert.Equal(MetadataReading.Present(new RebalanceRecommendation(new DateTimeOffset(2020, 10, 27, 8, 22, 0, TimeSpan.Zero))), armed);
    }

    [Fact]
    public async Task GetScheduledEventsAsync_ReferenceExample_ParsesEveryField()
    {
        _simulator.SetScheduledEventsBody(
            "[{\"NotBefore\" : \"21 Jan 2019 09:00:43 GMT\",\"Code\" : \"system-reboot\",\"Description\" : \"scheduled reboot\","
            + "\"EventId\" : \"instance-event-0d59937288b749b32\",\"NotAfter\" : \"21 Jan 2019 09:17:23 GMT\",\"State\" : \"active\"}]");
        using var client = CreateClient();

        var reading = await client.GetScheduledEventsAsync(CancellationToken.None);

        var present = Assert.IsType<MetadataReading<IReadOnlyList<MaintenanceEvent>>.Present>(reading);
        var e = Assert.Single(present.Value);
        Assert.Equal(
            new MaintenanceEvent(
                "instance-event-0d59937288b749b32",
                "system-reboot",
                "active",
                new DateTimeOffset(2019, 1, 21, 9, 0, 43, TimeSpan.Zero),
                new DateTimeOffset(2019, 1, 21, 9, 17, 23, TimeSpan.Zero),
                "scheduled reboot"),
            e);
    }

    [Fact]
    public async Task GetScheduledEventsAsync_OneDigitDayAndNoNotAfter_IsParsed()
    {
        _simulator.SetScheduledEventsBody(
            "[\n\t{\n\t\t\"NotBefore\": \"1 Feb 2019 09:00:43 GMT\",\n\t\t\"Code\": \"instance-stop\",\n\t\t\"Description\": \"stop\",\n\t\t\"EventId\": \"instance-event-1\",\n\t\t\"State\": \"active\"\n\t}\n]");
        using var client = CreateClient();

        var reading = await client.GetScheduledEventsAsync(CancellationToken.None);

        var present = Assert.IsType<MetadataReading<IReadOnlyList<MaintenanceEvent>>.Present>(reading);
        Assert.Equal(
            [new MaintenanceEvent("instance-event-1", "instance-stop", "active", new DateTimeOffset(2019, 2, 1, 9, 0, 43, TimeSpan.Zero), null, "stop")],
            present.Value);
    }

    [Fact]
    public async Task GetScheduledEventsAsync_EmptyList_IsPresentAndEmpty()
    {
        using var client = CreateClient();

        var reading = await client.GetScheduledEventsAsync(CancellationToken.None);

        var present = Assert.IsType<MetadataReading<IReadOnlyList<MaintenanceEvent>>.Present>(reading);
        Assert.Empty(present.Value);
    }

    [Fact]
    public async Task GetScheduledEventsAsync_TimeInAnotherFormat_IsUnknown()
    {
        _simulator.SetScheduledEventsBody("[{\"NotBefore\": \"2019-01-21T09:00:43Z\",\"Code\": \"instance-stop\",\"EventId\": \"e\",\"State\": \"active\"}]");
        using var client = CreateClient();

        var reading = await client.GetScheduledEventsAsync(CancellationToken.None);

        var unknown = Assert.IsType<MetadataReading<IReadOnlyList<MaintenanceEvent>>.Unknown>(reading);
        Assert.Contains("NotBefore", unknown.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetIdentityAsync_Simulator_ReturnsDocumentAndLifecycle()
    {
        _simulator.Instance = new SimulatedInstance(InstanceId: "i-0abc", InstanceType: "c6i.xlarge", AvailabilityZone: "eu-central-1b", Region: "eu-central-1", Lifecycle: "on-demand");
        using var client = CreateClient();

        var reading = await client.GetIdentityAsync(CancellationToken.None);

        Assert.Equal(MetadataReading.Present(new InstanceIdentity("i-0abc", "c6i.xlarge", "eu-central-1b", "eu-central-1", "on-demand")), reading);
    }

    [Fact]
    public async Task GetInstanceActionAsync_NoTokenAndV1FallbackOff_IsUnknownAndNoTokenlessGet()
    {
        _simulator.Mode = ImdsMode.V1Allowed;
        _simulator.ArmNotice(InstanceActionKind.Terminate, NoticeTime);
        _simulator.InjectFault(ImdsFault.Status(503, ImdsPaths.Token));
        using var client = CreateClient();

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        Assert.IsType<MetadataReading<InstanceAction>.Unknown>(reading);
        Assert.DoesNotContain(_simulator.Requests, r => r.Method == "GET");
    }

    [Fact]
    public async Task GetInstanceActionAsync_NoTokenAndV1FallbackOn_ReadsWithoutToken()
    {
        _simulator.Mode = ImdsMode.V1Allowed;
        _simulator.ArmNotice(InstanceActionKind.Terminate, NoticeTime);
        _simulator.InjectFault(ImdsFault.Status(503, ImdsPaths.Token));
        using var client = CreateClient(configure: o => o.AllowV1Fallback = true);

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        Assert.Equal(MetadataReading.Present(new InstanceAction(InstanceActionKind.Terminate, NoticeTime)), reading);
        Assert.Equal(["PUT 503 1", "GET 200 0"], _simulator.Requests.Select(r => $"{r.Method} {r.Status} {(r.IsTokenPut ? 1 : r.TokenHeaderCount)}"));
    }

    [Fact]
    public async Task GetInstanceActionAsync_V1FallbackOnButV2Required_IsUnknown()
    {
        _simulator.ArmNotice(InstanceActionKind.Terminate, NoticeTime);
        _simulator.InjectFault(ImdsFault.Status(503, ImdsPaths.Token));
        using var client = CreateClient(configure: o => o.AllowV1Fallback = true);

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        var unknown = Assert.IsType<MetadataReading<InstanceAction>.Unknown>(reading);
        Assert.Contains("401 without a token", unknown.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetInstanceActionAsync_ConcurrentCallers_ShareOneTokenPut()
    {
        _simulator.InjectFault(ImdsFault.Slow(TimeSpan.FromMilliseconds(200), ImdsPaths.Token, times: 1));
        using var client = CreateClient();

        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.GetInstanceActionAsync(CancellationToken.None)));

        Assert.Single(_simulator.Requests, r => r.IsTokenPut);
        Assert.Equal(10, _simulator.Requests.Count(r => r.Method == "GET" && r.TokenHeaderCount == 1));
    }

    [Fact]
    public async Task GetInstanceActionAsync_ConnectionRefused_IsUnknown()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = new ImdsMetadataClient(
            Options.Create(new MetadataOptions { BaseUrl = new Uri($"http://127.0.0.1:{port}") }), TimeProvider.System, _logger);

        var reading = await client.GetInstanceActionAsync(CancellationToken.None);

        Assert.IsType<MetadataReading<InstanceAction>.Unknown>(reading);
    }

    [Fact]
    public async Task GetInstanceActionAsync_CallerCancels_ThrowsOperationCanceled()
    {
        _simulator.InjectFault(ImdsFault.Slow(TimeSpan.FromSeconds(5), ImdsPaths.InstanceAction));
        using var client = CreateClient(configure: o => o.RequestTimeout = TimeSpan.FromSeconds(10));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetInstanceActionAsync(cancel.Token));
    }

    [Fact]
    public async Task AllReads_TokenIssuedAndRenewed_TokenNeverLogged()
    {
        _simulator.ArmNotice(InstanceActionKind.Terminate, NoticeTime);
        using var client = CreateClient();
        await client.GetInstanceActionAsync(CancellationToken.None);
        _simulator.RevokeTokens();
        _simulator.InjectFault(ImdsFault.Status(401, ImdsPaths.Rebalance, times: 2));
        await client.GetInstanceActionAsync(CancellationToken.None);
        await client.GetRebalanceRecommendationAsync(CancellationToken.None);
        await client.GetIdentityAsync(CancellationToken.None);

        Assert.NotEmpty(_logger.Lines);
        // Every simulated token starts with "AQAEA", as EC2's do.
        Assert.DoesNotContain(_logger.Lines, l => l.Message.Contains("AQAEA", StringComparison.Ordinal));
    }

    private ImdsMetadataClient CreateClient(Action<MetadataOptions>? configure = null) => CreateClient(_simulator, TimeProvider.System, configure);

    private ImdsMetadataClient CreateClient(ImdsSimulator simulator, TimeProvider clock, Action<MetadataOptions>? configure = null)
    {
        var options = new MetadataOptions { BaseUrl = simulator.BaseUrl };
        configure?.Invoke(options);
        return new ImdsMetadataClient(Options.Create(options), clock, _logger);
    }
}
