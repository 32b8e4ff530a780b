using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SpotDevBox.Core.Savings;
using SpotDevBox.Savings;

namespace SpotDevBox.Hosting;

internal static class PriceRegistration
{
    /// <summary>
    /// The "Prices" section (validated at start, so a mistyped override stops every verb with exit code 2), the
    /// table folders, and one <see cref="PriceBook"/> behind the three price ports; TryAdd, so a test can put others in.
    /// </summary>
    public static IServiceCollection AddSpotDevBoxPrices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PriceOptions>().BindConfiguration(PriceOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PriceOptions>, PriceOptionsValidator>());
        services.TryAddSingleton(sp => PriceFolders.Resolve(sp.GetRequiredService<IOptions<PriceOptions>>().Value));
        services.TryAddSingleton(sp =>
        {
            var folders = sp.GetRequiredService<PriceFolders>();
            return new PriceBook([folders.Refreshed, folders.Shipped], sp.GetRequiredService<IOptions<PriceOptions>>().Value);
        });
        services.TryAddSingleton<IOnDemandPrices>(sp => sp.GetRequiredService<PriceBook>());
        services.TryAddSingleton<IStoragePrices>(sp => sp.GetRequiredService<PriceBook>());
        services.TryAddSingleton<ISpotAdvisor>(sp => sp.GetRequiredService<PriceBook>());
        services.TryAddSingleton<PriceRefresher>();
        _ = configuration;
        return services;
    }
}
