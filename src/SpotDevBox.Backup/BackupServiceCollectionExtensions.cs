using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Repository;

namespace SpotDevBox.Backup;

/// <summary>The backup engine's services, for a host to compose.</summary>
public static class BackupServiceCollectionExtensions
{
    /// <summary>
    /// The engine's options ("Backup": bound, unknown settings refused, validated at start) and the file system it
    /// reads and restores through. TryAdd, so a host (or a test) can put in its own clock or file system first.
    /// </summary>
    public static IServiceCollection AddSpotDevBoxBackup(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IFileSystemMetadata, UnixFileSystem>();
        services.AddOptions<BackupEngineOptions>().BindConfiguration(BackupEngineOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BackupEngineOptions>, BackupEngineOptionsValidator>());
        // The options bind from the host's configuration (BindConfiguration); the parameter keeps the shape of the others.
        _ = configuration;
        return services;
    }
}
