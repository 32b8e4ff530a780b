using System.Globalization;
using System.Net;

namespace SpotDevBox.Core.Boxes;

/// <summary>
/// Where <c>controller run</c> exports its metrics (Controller:Metrics, docs/controller.md "Metrics"): OTLP to a
/// collector, and/or a Prometheus scrape endpoint. Both are off when empty; only <c>controller run</c> exports.
/// </summary>
public sealed class MetricsOptions
{
    public OtlpMetricsOptions Otlp { get; set; } = new();

    public PrometheusMetricsOptions Prometheus { get; set; } = new();

    /// <summary>One line per setting that is wrong, naming it under <paramref name="section"/>.</summary>
    public IEnumerable<string> Validate(string section)
    {
        var endpoint = Otlp.Endpoint;
        if (!string.IsNullOrWhiteSpace(endpoint)
            && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo)))
        {
            // The value is not echoed: an endpoint URL may carry a token in its user part or query.
            yield return $"{section}:Otlp:Endpoint must be the collector's http:// or https:// URL without credentials, e.g. http://127.0.0.1:4317";
        }

        if (Otlp.Protocol is not ("" or "grpc" or "http/protobuf"))
        {
            yield return $"{section}:Otlp:Protocol must be grpc or http/protobuf, got '{Otlp.Protocol}'";
        }

        if (!OtlpMetricsOptions.IsValidHeaders(Otlp.Headers))
        {
            // The value is not echoed: it is there for an API key.
            yield return $"{section}:Otlp:Headers must be NAME=VALUE pairs separated by commas (the form of OTEL_EXPORTER_OTLP_HEADERS), e.g. api-key=..., each NAME an HTTP header name";
        }

        if (!string.IsNullOrWhiteSpace(Prometheus.Listen) && PrometheusMetricsOptions.Parse(Prometheus.Listen) is null)
        {
            yield return $"{section}:Prometheus:Listen must be PORT (on 127.0.0.1), HOST:PORT or [IPv6]:PORT with an IP address, localhost or * as the host and a port 1-65535, got '{Prometheus.Listen}'";
        }
    }
}

public sealed class OtlpMetricsOptions
{
    /// <summary>The collector's URL (e.g. http://127.0.0.1:4317 for gRPC, http://127.0.0.1:4318/v1/metrics for HTTP); empty: no OTLP export.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>"grpc" or "http/protobuf"; empty: OTEL_EXPORTER_OTLP_PROTOCOL, else grpc (the SDK's default).</summary>
    public string Protocol { get; set; } = "";

    /// <summary>
    /// Headers sent with every export, as OTEL_EXPORTER_OTLP_HEADERS writes them: <c>name=value,name2=value2</c> (values
    /// may be percent-encoded); empty: OTEL_EXPORTER_OTLP_HEADERS, if set. A secret (a hosted collector's API key): never
    /// logged, never echoed in an error.
    /// </summary>
    public string Headers { get; set; } = "";

    /// <summary>Whether <paramref name="headers"/> is empty or <c>name=value</c> pairs separated by commas, each name an HTTP token.</summary>
    public static bool IsValidHeaders(string? headers)
    {
        if (string.IsNullOrWhiteSpace(headers))
        {
            return true;
        }

        foreach (var pair in headers.Split(','))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return false;
            }

            var name = pair[..equals].Trim();
            if (name.Length == 0 || !name.All(IsTokenChar) || pair[(equals + 1)..].Any(char.IsControl))
            {
                return false;
            }
        }

        return true;
    }

    // RFC 9110's tchar.
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
}

public sealed class PrometheusMetricsOptions
{
    /// <summary>
    /// Where the scrape endpoint (<c>/metrics</c>) listens: <c>PORT</c> (on 127.0.0.1), or <c>HOST:PORT</c>; empty: no
    /// endpoint. A host that is not loopback (an interface's address, or * for all) only when written here.
    /// </summary>
    public string Listen { get; set; } = "";

    /// <summary>The host (an IPv6 address in brackets) and port <paramref name="listen"/> names, and whether it is loopback only; null when it is not valid.</summary>
    public static (string Host, int Port, bool Loopback)? Parse(string listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var text = listen.Trim();
        string host;
        string port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                return null;
            }

            host = text[1..close];
            port = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return null;
            }

            host = "[" + host + "]";
        }
        else if (text.LastIndexOf(':') is var colon and >= 0)
        {
            host = text[..colon];
            port = text[(colon + 1)..];
            if (host.Contains(':', StringComparison.Ordinal))
            {
                // An IPv6 address is written in brackets, or the port could not be told from it.
                return null;
            }
        }
        else
        {
            host = "127.0.0.1";
            port = text;
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            return null;
        }

        bool loopback;
        if (host == "*")
        {
            loopback = false;
        }
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            host = "localhost";
            loopback = true;
        }
        else if (IPAddress.TryParse(host.Trim('[', ']'), out var address))
        {
            loopback = IPAddress.IsLoopback(address);
        }
        else
        {
            return null;
        }

        return (host, number, loopback);
    }
}
