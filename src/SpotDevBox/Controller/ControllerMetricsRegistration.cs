using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Controller;

namespace SpotDevBox.Controller;

internal static class ControllerMetricsRegistration
{
    /// <summary>The standard variables the OpenTelemetry .NET SDK reads (through the host's configuration: SpotDevBoxHost adds the process's OTEL_* ones).</summary>
    internal const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    internal const string MetricsEndpointVariable = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
    internal const string ProtocolVariable = "OTEL_EXPORTER_OTLP_PROTOCOL";
    internal const string MetricsProtocolVariable = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";
    internal const string HeadersVariable = "OTEL_EXPORTER_OTLP_HEADERS";
    internal const string MetricsHeadersVariable = "OTEL_EXPORTER_OTLP_METRICS_HEADERS";
    internal const string ServiceNameVariable = "OTEL_SERVICE_NAME";
    internal const string ResourceAttributesVariable = "OTEL_RESOURCE_ATTRIBUTES";

    /// <summary>The service's name when neither OTEL_SERVICE_NAME nor a service.name in OTEL_RESOURCE_ATTRIBUTES gives one.</summary>
    internal const string DefaultServiceName = "spotdevbox-controller";

    /// <summary>
    /// <c>controller run</c>'s metrics (docs/controller.md "Metrics"): the instruments always (nothing listens when no
    /// export is configured), OTLP when Controller:Metrics:Otlp:Endpoint or OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT is set,
    /// the Prometheus scrape endpoint when Controller:Metrics:Prometheus:Listen is. A setting wins over its variable; the
    /// SDK reads the variables itself, so only the settings are written onto its options. An invalid setting or
    /// variable stops the program here, exit 2, naming it and never its value.
    /// </summary>
    public static IServiceCollection AddSpotDevBoxControllerMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        var section = $"{ControllerOptions.SectionName}:{nameof(ControllerOptions.Metrics)}";
        var options = configuration.GetSection(section).Get<MetricsOptions>() ?? new MetricsOptions();
        var failures = options.Validate(section).ToList();
        var variableEndpoint = Variable(configuration, MetricsEndpointVariable) ?? Variable(configuration, EndpointVariable);
        var exportsOtlp = !string.IsNullOrWhiteSpace(options.Otlp.Endpoint) || variableEndpoint is not null;
        if (exportsOtlp)
        {
            // The SDK parses every one of them when it builds the exporter, and would stop with its own exception.
            failures.AddRange(VariableFailures(configuration));
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(section, typeof(MetricsOptions), failures);
        }

        services.AddMetrics();
        services.TryAddSingleton<ControllerMetrics>();
        var prometheus = string.IsNullOrWhiteSpace(options.Prometheus.Listen) ? null : PrometheusMetricsOptions.Parse(options.Prometheus.Listen);
        if (!exportsOtlp && prometheus is null)
        {
            return services;
        }

        var serviceName = ServiceName(configuration);
        services.AddOpenTelemetry()
            // After the SDK's own detector of OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, so this name would win: it is
            // theirs when they give one.
            .ConfigureResource(r => r.AddService(serviceName))
            .WithMetrics(m =>
            {
                m.AddMeter(ControllerMetrics.MeterName);
                if (exportsOtlp)
                {
                    m.AddOtlpExporter(e =>
                    {
                        // Only what the settings say: the rest stays as the SDK read it from the OTEL_* variables.
                        if (!string.IsNullOrWhiteSpace(options.Otlp.Endpoint))
                        {
                            e.Endpoint = new Uri(options.Otlp.Endpoint);
                        }

                        if (options.Otlp.Protocol.Length > 0)
                        {
                            e.Protocol = options.Otlp.Protocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                        }

                        if (!string.IsNullOrWhiteSpace(options.Otlp.Headers))
                        {
                            e.Headers = options.Otlp.Headers;
                        }
                    });
                }

                if (prometheus is { } listen)
                {
                    m.AddPrometheusHttpListener(p =>
                    {
                        p.Host = listen.Host;
                        p.Port = listen.Port;
                    });
                }
            });
        return services;
    }

    /// <summary>OTEL_SERVICE_NAME, else a service.name in OTEL_RESOURCE_ATTRIBUTES (the specification's order), else spotdevbox-controller.</summary>
    internal static string ServiceName(IConfiguration configuration)
    {
        if (Variable(configuration, ServiceNameVariable) is { } name)
        {
            return name;
        }

        foreach (var pair in (Variable(configuration, ResourceAttributesVariable) ?? "").Split(','))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && pair[..equals].Trim() == "service.name" && Uri.UnescapeDataString(pair[(equals + 1)..].Trim()) is { Length: > 0 } value)
            {
                return value;
            }
        }

        return DefaultServiceName;
    }

    private static IEnumerable<string> VariableFailures(IConfiguration configuration)
    {
        foreach (var variable in new[] { EndpointVariable, MetricsEndpointVariable })
        {
            if (Variable(configuration, variable) is { } endpoint
                && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo)))
            {
                yield return $"{variable} must be the collector's http:// or https:// URL without credentials, e.g. http://127.0.0.1:4317";
            }
        }

        foreach (var variable in new[] { ProtocolVariable, MetricsProtocolVariable })
        {
            if (Variable(configuration, variable) is { } protocol && protocol is not ("grpc" or "http/protobuf"))
            {
                yield return $"{variable} must be grpc or http/protobuf, got '{protocol}'";
            }
        }

        foreach (var variable in new[] { HeadersVariable, MetricsHeadersVariable })
        {
            if (!OtlpMetricsOptions.IsValidHeaders(Variable(configuration, variable)))
            {
                yield return $"{variable} must be NAME=VALUE pairs separated by commas, e.g. api-key=..., each NAME an HTTP header name";
            }
        }
    }

    private static string? Variable(IConfiguration configuration, string name) =>
        configuration[name] is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}
