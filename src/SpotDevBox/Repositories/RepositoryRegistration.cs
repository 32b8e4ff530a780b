using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace SpotDevBox.Repositories;

internal static class RepositoryRegistration
{
    /// <summary>
    /// How repositories are reached and opened ("Storage", "Keys": validated at start) and the opener the verbs, the
    /// agent and the controller share; TryAdd, so a host or a test can replace any of them.
    /// </summary>
    public static IServiceCollection AddSpotDevBoxRepositories(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.AddOptions<KeyOptions>().BindConfiguration(KeyOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KeyOptions>, KeyOptionsValidator>());
        services.TryAddSingleton<RepositoryOpener>();
        _ = configuration;
        return services;
    }
}
