using SpotDevBox.Core.Boxes;

namespace SpotDevBox.Core.Tests.Boxes;

public sealed class MetricsOptionsTests
{
    [Theory]
    [InlineData("9464", "127.0.0.1", 9464, true)]
    [InlineData("127.0.0.1:9464", "127.0.0.1", 9464, true)]
    [InlineData("localhost:9000", "localhost", 9000, true)]
    [InlineData("[::1]:9464", "[::1]", 9464, true)]
    [InlineData("10.0.0.5:9464", "10.0.0.5", 9464, false)]
    [InlineData("0.0.0.0:9464", "0.0.0.0", 9464, false)]
    [InlineData("*:9464", "*", 9464, false)]
    public void Parse_ValidListen_HostPortAndWhetherLoopback(string listen, string host, int port, bool loopback) =>
        Assert.Equal((host, port, loopback), PrometheusMetricsOptions.Parse(listen));

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("metrics.example.com:9464")]
    [InlineData("::1:9464")]
    [InlineData("127.0.0.1:")]
    [InlineData("127.0.0.1:-1")]
    public void Parse_InvalidListen_Null(string listen) => Assert.Null(PrometheusMetricsOptions.Parse(listen));

    [Fact]
    public void Validate_Defaults_NothingExportedAndValid() => Assert.Empty(new MetricsOptions().Validate("Controller:Metrics"));

    [Fact]
    public void Validate_BadListen_NamesTheSetting()
    {
        var options = new MetricsOptions { Prometheus = { Listen = "everywhere" } };

        Assert.Equal(
            ["Controller:Metrics:Prometheus:Listen must be PORT (on 127.0.0.1), HOST:PORT or [IPv6]:PORT with an IP address, localhost or * as the host and a port 1-65535, got 'everywhere'"],
            options.Validate("Controller:Metrics"));
    }

    [Theory]
    [InlineData("collector:4317")]
    [InlineData("ftp://collector/")]
    [InlineData("https://user:s3cret@collector.example.com:4318/v1/metrics")]
    public void Validate_BadOtlpEndpoint_NamesTheSettingWithoutEchoingTheValue(string endpoint)
    {
        var options = new MetricsOptions { Otlp = { Endpoint = endpoint } };

        var failure = Assert.Single(options.Validate("Controller:Metrics"));
        Assert.Equal("Controller:Metrics:Otlp:Endpoint must be the collector's http:// or https:// URL without credentials, e.g. http://127.0.0.1:4317", failure);
    }

    [Fact]
    public void Validate_UnknownProtocol_NamesTheSetting() =>
        Assert.Equal(
            ["Controller:Metrics:Otlp:Protocol must be grpc or http/protobuf, got 'thrift'"],
            new MetricsOptions { Otlp = { Endpoint = "http://127.0.0.1:4317", Protocol = "thrift" } }.Validate("Controller:Metrics"));

    [Theory]
    [InlineData("api-key=abc123")]
    [InlineData("api-key=abc123, x-team = ops")]
    [InlineData("authorization=Bearer%20abc123")]
    [InlineData("x-empty=")]
    public void Validate_OtlpHeadersNameValuePairs_Valid(string headers) =>
        Assert.Empty(new MetricsOptions { Otlp = { Endpoint = "http://127.0.0.1:4318/v1/metrics", Headers = headers } }.Validate("Controller:Metrics"));

    [Theory]
    [InlineData("s3cret")]
    [InlineData("=s3cret")]
    [InlineData("api key=s3cret")]
    [InlineData("Authorization: Bearer s3cret")]
    [InlineData("api-key=s3cret,")]
    [InlineData("api-key=s3cret\n")]
    public void Validate_BadOtlpHeaders_NamesTheSettingNeverTheValue(string headers)
    {
        var options = new MetricsOptions { Otlp = { Endpoint = "http://127.0.0.1:4318/v1/metrics", Headers = headers } };

        var failure = Assert.Single(options.Validate("Controller:Metrics"));
        Assert.StartsWith("Controller:Metrics:Otlp:Headers must be NAME=VALUE pairs separated by commas", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_OtlpProtocolEmpty_TheVariableOrGrpcDecides() =>
        Assert.Equal(("", ""), (new OtlpMetricsOptions().Protocol, new OtlpMetricsOptions().Headers));

    [Fact]
    public void ControllerOptionsValidator_BadMetricsSetting_IsAmongItsFailures()
    {
        var options = new ControllerOptions();
        options.Metrics.Prometheus.Listen = "70000";

        var failures = new ControllerOptionsValidator().Validate(null, options).Failures;

        Assert.Contains(failures!, f => f.StartsWith("Controller:Metrics:Prometheus:Listen must be", StringComparison.Ordinal));
    }
}
