using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SpotDevBox.Core;
using SpotDevBox.Core.Savings;
using SpotDevBox.Savings;

namespace SpotDevBox.Hosting;

internal static class PriceRegistration
{
    /// <summary>
    /// The table folders (shipped beside the executable, refreshed in the user's state) and the library's prices over
    /// them (the "Prices" section, validated at start, so a mistyped override stops every verb with exit code 2).
    /// </summary>
    public static IServiceCollection AddSpotDevBoxPrices(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(sp => PriceFolders.Resolve(sp.GetRequiredService<IOptions<PriceOptions>>().Value));
        CoreServiceCollectionExtensions.AddSpotDevBoxPrices(services, configuration, sp =>
        {
            var folders = sp.GetRequiredService<PriceFolders>();
            return [folders.Refreshed, folders.Shipped];
        });
        services.TryAddSingleton<PriceRefresher>();
        return services;
    }
}
