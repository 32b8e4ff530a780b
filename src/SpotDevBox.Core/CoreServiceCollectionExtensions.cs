using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Idle;
using SpotDevBox.Core.Interruption;
using SpotDevBox.Core.Launch;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core;

/// <summary>
/// The domain's services, for a host to compose. Options are bound from the host's configuration, refuse unknown
/// settings and are validated at start; every service is added with TryAdd, so a host or a test can put another in first.
/// </summary>
public static class CoreServiceCollectionExtensions
{
    /// <summary>
    /// The "Prices" section and one <see cref="PriceBook"/> behind the three price ports. Where the tables are is the
    /// host's to say (<paramref name="folders"/>: the refreshed ones first, then the shipped ones).
    /// </summary>
    public static IServiceCollection AddSpotDevBoxPrices(
        this IServiceCollection services, IConfiguration configuration, Func<IServiceProvider, IReadOnlyList<PriceTableFolder>> folders)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<PriceOptions>().BindConfiguration(PriceOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PriceOptions>, PriceOptionsValidator>());
        services.TryAddSingleton(sp => new PriceBook(folders(sp), sp.GetRequiredService<IOptions<PriceOptions>>().Value));
        services.TryAddSingleton<IOnDemandPrices>(sp => sp.GetRequiredService<PriceBook>());
        services.TryAddSingleton<IStoragePrices>(sp => sp.GetRequiredService<PriceBook>());
        services.TryAddSingleton<ISpotAdvisor>(sp => sp.GetRequiredService<PriceBook>());
        _ = configuration;
        return services;
    }

    /// <summary>
    /// The agent's domain: its options ("Agent", "Agent:Interruption"), the interruption watcher, and idle detection
    /// over the host root of Agent:HostRoot. The host adds the ports it implements (the metadata client, the
    /// interruption handler, the lease source, the stop actions). Only a host that runs the agent adds these:
    /// their options are validated at its start.
    /// </summary>
    public static IServiceCollection AddSpotDevBoxAgentDomain(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        // One call per type, not a generic helper: the binding source generator only sees calls with a concrete
        // type, and a generic one falls back to the reflection binder, which a native AOT build cannot run.
        services.AddOptions<AgentOptions>().BindConfiguration(AgentOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>());
        services.AddOptions<InterruptionOptions>().BindConfiguration(InterruptionOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InterruptionOptions>, InterruptionOptionsValidator>());
        services.TryAddSingleton<ICommandRunner, ProcessCommandRunner>();
        services.TryAddSingleton<InterruptionWatcher>();
        // The sensors' root comes from Agent:HostRoot; registered before AddIdleDetection, which only adds what is missing.
        services.TryAddSingleton(sp => new HostRoot(sp.GetRequiredService<IOptions<AgentOptions>>().Value.HostRoot));
        services.AddIdleDetection();
        _ = configuration;
        return services;
    }

    /// <summary>
    /// The controller's domain: launches (the gate, the launcher, the launch claims), budgets, session costs, the
    /// daily summary and the <see cref="Reconciler"/>. The host adds the stores and documents they read and write
    /// (<see cref="IControllerStore"/>, <see cref="ILedgerStore"/>, <see cref="ILaunchClaimStore"/>, ...) and the options.
    /// </summary>
    public static IServiceCollection AddSpotDevBoxControllerDomain(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BoxLaunchGate>();
        services.TryAddSingleton<BoxLauncher>();
        services.TryAddSingleton<IBudgetGuard, BudgetGuard>();
        services.TryAddSingleton<ISessionCostRecorder, SessionCostRecorder>();
        services.TryAddSingleton<LaunchClaims>();
        services.TryAddSingleton<DailySummary>();
        services.TryAddSingleton<Reconciler>();
        return services;
    }
}
