using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Commands;

namespace SpotDevBox.Hosting;

/// <summary>Builds the Generic Host every verb runs in: configuration, Serilog, options, services.</summary>
internal static class SpotDevBoxHost
{
    /// <summary>
    /// The host of a verb. Without <paramref name="readConfiguration"/> (--help) no file or variable is read:
    /// help shows whatever state the configuration is in. The console log level is raised by --verbose; one per host.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[] args, LoggingLevelSwitch consoleLevel, bool readConfiguration = true)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        if (readConfiguration)
        {
            ConfigurationFiles.Add(builder.Configuration, Environment.GetEnvironmentVariable(ConfigurationFiles.ConfigVariable));
            builder.Configuration.AddEnvironmentVariables(ConfigurationFiles.EnvironmentPrefix);
        }

        _ = args;

        builder.Services.AddSerilog((services, logger) => ConfigureSerilog(logger, builder.Configuration, consoleLevel));
        builder.Services.AddSpotDevBoxBackup(builder.Configuration);
        builder.Services.AddSpotDevBoxCompute(builder.Configuration);
        builder.Services.AddSpotDevBoxPrices(builder.Configuration);
        builder.Services.AddSingleton(consoleLevel);
        return builder;
    }

    private static void ConfigureSerilog(LoggerConfiguration logger, ConfigurationManager configuration, LoggingLevelSwitch consoleLevel)
    {
        SerilogSettings.ApplyMinimumLevels(logger.MinimumLevel, configuration);
        logger.Enrich.FromLogContext()
            .WriteTo.Console(
                outputTemplate: "{Timestamp:HH:mm:ss} {Level:u3} {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose,
                levelSwitch: consoleLevel);
        var file = configuration["Logging:File"];
        if (string.IsNullOrWhiteSpace(file))
        {
            var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            file = Path.Combine(!string.IsNullOrEmpty(state) ? state : Path.Combine(home, ".local", "state"), "spotdevbox", "logs", "spotdevbox-.clef");
        }

        if (!string.Equals(file, "off", StringComparison.OrdinalIgnoreCase))
        {
            logger.WriteTo.File(new Serilog.Formatting.Compact.CompactJsonFormatter(), file, rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14);
        }
    }

    /// <summary>The backup verbs' services; TryAdd so a host (or a test) can replace any of them.</summary>
    public static IServiceCollection AddSpotDevBoxBackup(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IFileSystemMetadata, UnixFileSystem>();
        services.AddOptions<BackupEngineOptions>().BindConfiguration(BackupEngineOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Options.IValidateOptions<BackupEngineOptions>, BackupEngineOptionsValidator>());
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Options.IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.TryAddSingleton<RepositoryOpener>();
        _ = configuration;
        return services;
    }
}
