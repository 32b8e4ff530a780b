using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using SpotDevBox.Controller;
using SpotDevBox.Core.Controller;

namespace SpotDevBox.Tests.Controller;

/// <summary>
/// Controller:Metrics:Otlp against a receiver in process (OTLP over HTTP: the request line, the headers and the
/// protobuf body, which carries the resource's strings as they are), and the standard OTEL_* variables as the host's
/// configuration holds them (SpotDevBoxHost adds the process's).
/// </summary>
public sealed class ControllerMetricsExportTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Otlp_HeadersSetting_SentWithTheExportAndWinsOverTheVariable()
    {
        await using var receiver = OtlpReceiver.Start();

        var export = await ExportAsync(receiver, new()
        {
            ["Controller:Metrics:Otlp:Endpoint"] = receiver.Url + "v1/metrics",
            ["Controller:Metrics:Otlp:Protocol"] = "http/protobuf",
            ["Controller:Metrics:Otlp:Headers"] = "api-key=from-the-setting,x-team=ops",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "api-key=from-the-variable",
        });

        Assert.Equal("POST /v1/metrics", export.RequestLine);
        Assert.Equal("from-the-setting", export.Headers["api-key"]);
        Assert.Equal("ops", export.Headers["x-team"]);
        Assert.Contains("spotdevbox.reconcile.duration", export.Body, StringComparison.Ordinal);
        Assert.Contains("spotdevbox-controller", export.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Otlp_OnlyTheStandardVariables_ExportsWhereAndAsTheySay()
    {
        await using var receiver = OtlpReceiver.Start();

        var export = await ExportAsync(receiver, new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Url,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "api-key=from-the-variable",
            ["OTEL_SERVICE_NAME"] = "fleet-controller",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=staging,service.name=ignored-for-the-service-name",
        });

        // The SDK adds the signal's path to the variable's endpoint (never to the setting's).
        Assert.Equal("POST /v1/metrics", export.RequestLine);
        Assert.Equal("from-the-variable", export.Headers["api-key"]);
        Assert.Contains("fleet-controller", export.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("spotdevbox-controller", export.Body, StringComparison.Ordinal);
        Assert.Contains("deployment.environment", export.Body, StringComparison.Ordinal);
        Assert.Contains("staging", export.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Otlp_SettingsAndVariablesDisagree_TheSettingsWin()
    {
        await using var receiver = OtlpReceiver.Start();
        await using var elsewhere = OtlpReceiver.Start();

        var export = await ExportAsync(receiver, new()
        {
            ["Controller:Metrics:Otlp:Endpoint"] = receiver.Url + "otlp/metrics",
            ["Controller:Metrics:Otlp:Protocol"] = "http/protobuf",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = elsewhere.Url,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "api-key=from-the-variable",
        });

        Assert.Equal("POST /otlp/metrics", export.RequestLine);
        // Where the setting says nothing, the variable still counts.
        Assert.Equal("from-the-variable", export.Headers["api-key"]);
        Assert.Empty(elsewhere.Requests);
    }

    [Fact]
    public void ServiceName_OnlyResourceAttributesNameIt_TheirServiceName()
    {
        var configuration = Configuration(new() { ["OTEL_RESOURCE_ATTRIBUTES"] = "team=ops, service.name=ops%20controller" });

        Assert.Equal("ops controller", ControllerMetricsRegistration.ServiceName(configuration));
        Assert.Equal("spotdevbox-controller", ControllerMetricsRegistration.ServiceName(Configuration([])));
    }

    [Theory]
    [InlineData("Controller:Metrics:Otlp:Headers", "api-key", "Controller:Metrics:Otlp:Headers must be NAME=VALUE pairs")]
    [InlineData("Controller:Metrics:Otlp:Headers", "api key=s3cret", "Controller:Metrics:Otlp:Headers must be NAME=VALUE pairs")]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", "Authorization: Bearer s3cret", "OTEL_EXPORTER_OTLP_HEADERS must be NAME=VALUE pairs")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "https://ops:s3cret@collector.example.com", "OTEL_EXPORTER_OTLP_ENDPOINT must be the collector's http:// or https:// URL without credentials")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift", "OTEL_EXPORTER_OTLP_PROTOCOL must be grpc or http/protobuf, got 'thrift'")]
    public void Register_InvalidHeadersEndpointOrProtocol_NamesTheSettingOrVariableNeverTheSecret(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?> { ["Controller:Metrics:Otlp:Endpoint"] = "http://127.0.0.1:4318/v1/metrics", [key] = value };
        if (key.StartsWith("OTEL_EXPORTER_OTLP_ENDPOINT", StringComparison.Ordinal))
        {
            settings.Remove("Controller:Metrics:Otlp:Endpoint");
        }

        var e = Assert.Throws<OptionsValidationException>(() => new ServiceCollection().AddSpotDevBoxControllerMetrics(Configuration(settings)));

        var failure = Assert.Single(e.Failures);
        Assert.StartsWith(expected, failure, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_InvalidVariableButNoOtlpExport_NothingToRefuse()
    {
        var services = new ServiceCollection().AddSpotDevBoxControllerMetrics(Configuration(new() { ["OTEL_EXPORTER_OTLP_HEADERS"] = "not headers" }));

        Assert.Contains(services, d => d.ServiceType == typeof(ControllerMetrics));
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) => new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    /// <summary>Builds and starts the host's metrics as controller run registers them, records a pass, flushes, and returns the first export the receiver got.</summary>
    private static async Task<OtlpReceiver.Request> ExportAsync(OtlpReceiver receiver, Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSpotDevBoxControllerMetrics(builder.Configuration);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            host.Services.GetRequiredService<ControllerMetrics>().ReconcileDuration(TimeSpan.FromSeconds(2));
            Assert.True(host.Services.GetRequiredService<MeterProvider>().ForceFlush(30_000));
            return await receiver.FirstAsync(Bound);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>An OTLP/HTTP receiver on a loopback port: it keeps each request and answers 200 with an empty (valid) protobuf response.</summary>
    private sealed class OtlpReceiver : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private Task _accepting = Task.CompletedTask;

        public sealed record Request(string RequestLine, IReadOnlyDictionary<string, string> Headers, string Body);

        public ConcurrentQueue<Request> Requests { get; } = new();

        public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

        public static OtlpReceiver Start()
        {
            var receiver = new OtlpReceiver();
            receiver._listener.Start();
            receiver._accepting = receiver.AcceptAsync();
            return receiver;
        }

        public async Task<Request> FirstAsync(TimeSpan bound)
        {
            var started = TimeProvider.System.GetTimestamp();
            while (!Requests.TryPeek(out _))
            {
                Assert.True(TimeProvider.System.GetElapsedTime(started) < bound, $"no export reached {Url} within {bound}");
                await Task.Delay(20);
            }

            Requests.TryPeek(out var first);
            return first!;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _accepting;
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var stream = client.GetStream();
                // One request per connection is enough: the answer closes it.
                var head = new StringBuilder();
                var buffer = new byte[1];
                while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(buffer, _stop.Token) == 1)
                {
                    head.Append((char)buffer[0]);
                }

                var lines = head.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
                var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim(), StringComparer.Ordinal);
                var body = new byte[headers.TryGetValue("content-length", out var length) ? int.Parse(length, System.Globalization.CultureInfo.InvariantCulture) : 0];
                await stream.ReadExactlyAsync(body, _stop.Token);
                var parts = lines[0].Split(' ');
                Requests.Enqueue(new Request($"{parts[0]} {parts[1]}", headers, Encoding.Latin1.GetString(body)));
                await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), _stop.Token);
            }
        }
    }
}
