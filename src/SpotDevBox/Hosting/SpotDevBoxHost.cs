using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using SpotDevBox.Aws;
using SpotDevBox.Backup;
using SpotDevBox.Deploy;
using SpotDevBox.Repositories;

namespace SpotDevBox.Hosting;

/// <summary>Builds the Generic Host every verb runs in: configuration, Serilog, options, services.</summary>
internal static class SpotDevBoxHost
{
    /// <summary>
    /// The host of a verb. Without <paramref name="readConfiguration"/> (--help) no file or variable is read:
    /// help shows whatever state the configuration is in. The console log level is raised by --verbose; one per host.
    /// </summary>
    /// <param name="logFile">The log file of Logging:File and Logging:RetainedFiles (checked here: a wrong one stops the verb).</param>
    public static HostApplicationBuilder CreateBuilder(string[] args, LoggingLevelSwitch consoleLevel, out LogFile logFile, bool readConfiguration = true)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        if (readConfiguration)
        {
            ConfigurationFiles.Add(
                builder.Configuration,
                Environment.GetEnvironmentVariable(ConfigurationFiles.ConfigVariable),
                createsIt: ConfigurationFiles.WritesConfiguration(args));
            builder.Configuration.AddEnvironmentVariables(ConfigurationFiles.EnvironmentPrefix);
            // The OpenTelemetry SDK reads its standard variables (OTEL_EXPORTER_OTLP_*, OTEL_SERVICE_NAME, ...) from the
            // host's configuration, which otherwise holds only the SPOTDEVBOX_ ones (docs/controller.md "Metrics").
            builder.Configuration.AddInMemoryCollection(OpenTelemetryVariables(Environment.GetEnvironmentVariables()));
        }

        _ = args;

        var file = LogFile.From(builder.Configuration);
        logFile = file;
        builder.Services.AddSingleton(file);
        builder.Services.AddSerilog((services, logger) => ConfigureSerilog(logger, builder.Configuration, consoleLevel, file));
        // The libraries register their own services; the executable adds what lives in it.
        builder.Services.AddSpotDevBoxBackup(builder.Configuration);
        builder.Services.AddSpotDevBoxAws(builder.Configuration);
        builder.Services.AddSpotDevBoxRepositories(builder.Configuration);
        builder.Services.TryAddSingleton<Ssh.BoxConnections>();
        builder.Services.AddSpotDevBoxPrices(builder.Configuration);
        builder.Services.AddSpotDevBoxDeploy(builder.Configuration);
        builder.Services.AddSingleton(consoleLevel);
        return builder;
    }

    /// <summary>The OTEL_* variables among <paramref name="variables"/>, under their own names.</summary>
    internal static IEnumerable<KeyValuePair<string, string?>> OpenTelemetryVariables(System.Collections.IDictionary variables) =>
        [.. variables.Cast<System.Collections.DictionaryEntry>()
            .Where(v => v.Key is string name && name.StartsWith("OTEL_", StringComparison.Ordinal))
            .Select(v => KeyValuePair.Create((string)v.Key, v.Value as string))];

    private static void ConfigureSerilog(LoggerConfiguration logger, ConfigurationManager configuration, LoggingLevelSwitch consoleLevel, LogFile file)
    {
        SerilogSettings.ApplyMinimumLevels(logger.MinimumLevel, configuration);
        // A verb's failure goes to the file only: the terminal has its one line already, without the stack trace.
        logger.Enrich.FromLogContext()
            .WriteTo.Logger(console => console
                .MinimumLevel.Verbose()
                .Filter.ByExcluding(Serilog.Filters.Matching.FromSource(FailureLog.Category))
                .WriteTo.Console(
                    outputTemplate: "{Timestamp:HH:mm:ss} {Level:u3} {Message:lj}{NewLine}{Exception}",
                    standardErrorFromLevel: LogEventLevel.Verbose,
                    levelSwitch: consoleLevel));
        file.AddSink(logger);
    }
}
