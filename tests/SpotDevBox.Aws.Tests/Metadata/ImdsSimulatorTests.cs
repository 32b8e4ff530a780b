using System.Net;
using Microsoft.Extensions.Time.Testing;
using TestSupport.Imds;

namespace SpotDevBox.Aws.Tests.Metadata;

/// <summary>The simulator itself, spoken to with a bare HttpClient: it must behave as the reference says IMDS does.</summary>
public sealed class ImdsSimulatorTests : IAsyncLifetime
{
    private ImdsSimulator _simulator = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _simulator = await ImdsSimulator.StartAsync();
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = _simulator.BaseUrl };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _simulator.DisposeAsync();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("21601")]
    public async Task TokenPut_MissingOrBadTtl_Is400(string? ttl)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, ImdsPaths.Token);
        if (ttl is not null)
        {
            request.Headers.TryAddWithoutValidation("X-aws-ec2-metadata-token-ttl-seconds", ttl);
        }

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Get_V2RequiredWithoutToken_Is401AndV1AllowedServes()
    {
        using var required = await _http.GetAsync(ImdsPaths.InstanceId);
        _simulator.Mode = ImdsMode.V1Allowed;
        var allowed = await _http.GetStringAsync(ImdsPaths.InstanceId);

        Assert.Equal(HttpStatusCode.Unauthorized, required.StatusCode);
        Assert.Equal("i-1234567890abcdef0", allowed);
    }

    [Fact]
    public async Task Get_TokenExpiredOnSimulatorClock_Is401()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero));
        await using var simulator = await ImdsSimulator.StartAsync(clock);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = simulator.BaseUrl };
        var token = await PutTokenAsync(http, 60);

        using var fresh = await GetWithTokenAsync(http, ImdsPaths.InstanceType, token);
        clock.Advance(TimeSpan.FromSeconds(60));
        using var expired = await GetWithTokenAsync(http, ImdsPaths.InstanceType, token);

        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
    }

    [Fact]
    public async Task Get_TwoTokenHeaders_Is401AndLoggedAsTwo()
    {
        var token = await PutTokenAsync(_http, 60);
        using var request = new HttpRequestMessage(HttpMethod.Get, ImdsPaths.InstanceId);
        request.Headers.TryAddWithoutValidation("X-aws-ec2-metadata-token", token);
        request.Headers.TryAddWithoutValidation("X-aws-ec2-metadata-token", token);

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(2, _simulator.Requests[^1].TokenHeaderCount);
    }

    [Fact]
    public async Task Get_Disabled_Is403()
    {
        _simulator.Mode = ImdsMode.Disabled;

        using var response = await _http.PutAsync(ImdsPaths.Token, null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Get_TerminateNotice_LegacyTimeAndTopLevelNoneServedToo()
    {
        _simulator.Mode = ImdsMode.V1Allowed;
        _simulator.ArmNotice(SpotDevBox.Core.Interruption.InstanceActionKind.Terminate, new DateTimeOffset(2015, 1, 5, 18, 2, 0, TimeSpan.Zero));

        var notice = await _http.GetStringAsync(ImdsPaths.InstanceAction);
        var legacy = await _http.GetStringAsync(ImdsPaths.TerminationTime);
        var topLevel = await _http.GetStringAsync(ImdsPaths.TopLevelInstanceAction);

        Assert.Equal("{\"action\":\"terminate\",\"time\":\"2015-01-05T18:02:00Z\"}", notice);
        Assert.Equal("2015-01-05T18:02:00Z", legacy);
        Assert.Equal("none", topLevel);
    }

    [Fact]
    public async Task Get_StopNotice_NoLegacyTerminationTime()
    {
        _simulator.Mode = ImdsMode.V1Allowed;
        _simulator.ArmNotice(SpotDevBox.Core.Interruption.InstanceActionKind.Stop, new DateTimeOffset(2015, 1, 5, 18, 2, 0, TimeSpan.Zero));

        using var legacy = await _http.GetAsync(ImdsPaths.TerminationTime);

        Assert.Equal(HttpStatusCode.NotFound, legacy.StatusCode);
    }

    [Fact]
    public async Task Get_FaultForNextTwo_AppliesTwiceThenStops()
    {
        _simulator.Mode = ImdsMode.V1Allowed;
        _simulator.InjectFault(ImdsFault.Status(503, ImdsPaths.InstanceId, times: 2));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await _http.GetAsync(ImdsPaths.InstanceId);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK], statuses);
    }

    private static async Task<string> PutTokenAsync(HttpClient http, int ttl)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, ImdsPaths.Token);
        request.Headers.TryAddWithoutValidation("X-aws-ec2-metadata-token-ttl-seconds", ttl.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    private static Task<HttpResponseMessage> GetWithTokenAsync(HttpClient http, string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("X-aws-ec2-metadata-token", token);
        return http.SendAsync(request);
    }
}
