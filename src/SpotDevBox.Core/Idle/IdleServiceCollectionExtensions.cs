using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SpotDevBox.Core.Idle;

public static class IdleServiceCollectionExtensions
{
    /// <summary>
    /// Idle detection and the stop planner: <see cref="IdleOptions"/> bound from "Agent:Idle" (unknown
    /// settings refused, validated at start), the signals over "/", <see cref="IdleMonitor"/> and
    /// <see cref="StopPlanner"/>. The agent registers its own <see cref="ILeaseSource"/> and
    /// <see cref="IStopActions"/>; every other registration uses TryAdd, so the agent can replace it first.
    /// </summary>
    public static IServiceCollection AddIdleDetection(this IServiceCollection services)
    {
        services.AddOptions<IdleOptions>()
            .BindConfiguration(IdleOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IdleOptions>, IdleOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(HostRoot.Default);
        services.TryAddSingleton<ICommandRunner, ProcessCommandRunner>();
        services.TryAddSingleton(sp => new SelfActivityTracker(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<ISelfActivity>(sp => sp.GetRequiredService<SelfActivityTracker>());
        services.TryAddSingleton(sp => new IdleMonitor(
            IdleSignals.Create(
                sp.GetRequiredService<IOptions<IdleOptions>>().Value,
                sp.GetRequiredService<HostRoot>(),
                sp.GetRequiredService<ICommandRunner>(),
                sp.GetRequiredService<ILeaseSource>(),
                sp.GetRequiredService<ISelfActivity>()),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<IdleMonitor>>()));
        services.TryAddSingleton<StopPlanner>();
        return services;
    }
}
