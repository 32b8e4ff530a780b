using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace SpotDevBox.Commands;

internal static class CommandRegistration
{
    /// <summary>The services only the verbs use (the verbs themselves are registered by the parser).</summary>
    public static IServiceCollection AddSpotDevBoxCommands(this IServiceCollection services)
    {
        services.TryAddSingleton<KeyAccess>();
        return services;
    }
}
