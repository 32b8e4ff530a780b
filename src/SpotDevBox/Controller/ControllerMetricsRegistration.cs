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
    /// <summary>
    /// <c>controller run</c>'s metrics (docs/controller.md "Metrics"): the instruments always (nothing listens when no
    /// export is configured), OTLP when Controller:Metrics:Otlp:Endpoint is set, the Prometheus scrape endpoint when
    /// Controller:Metrics:Prometheus:Listen is. An invalid setting stops the program here, exit 2, naming it.
    /// </summary>
    public static IServiceCollection AddSpotDevBoxControllerMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        var section = $"{ControllerOptions.SectionName}:{nameof(ControllerOptions.Metrics)}";
        var options = configuration.GetSection(section).Get<MetricsOptions>() ?? new MetricsOptions();
        var failures = options.Validate(section).ToList();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(section, typeof(MetricsOptions), failures);
        }

        services.AddMetrics();
        services.TryAddSingleton<ControllerMetrics>();
        var otlp = string.IsNullOrWhiteSpace(options.Otlp.Endpoint) ? null : new Uri(options.Otlp.Endpoint);
        var prometheus = string.IsNullOrWhiteSpace(options.Prometheus.Listen) ? null : PrometheusMetricsOptions.Parse(options.Prometheus.Listen);
        if (otlp is null && prometheus is null)
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("spotdevbox-controller"))
            .WithMetrics(m =>
            {
                m.AddMeter(ControllerMetrics.MeterName);
                if (otlp is not null)
                {
                    m.AddOtlpExporter(e =>
                    {
                        e.Endpoint = otlp;
                        e.Protocol = options.Otlp.Protocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
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
}
