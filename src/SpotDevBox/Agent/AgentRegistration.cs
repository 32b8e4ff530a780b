using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Quartz;
using SpotDevBox.Aws;
using SpotDevBox.Core;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Idle;
using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Agent;

internal static class AgentRegistration
{
    /// <summary>
    /// The services of <c>spotdevbox agent run</c>. Hosted services start in this order — the watcher
    /// (so no notice is missed), the restore (which holds systemd's READY until the work is back), Quartz's
    /// jobs, the status publisher — and stop in the reverse one, so the final backup runs first.
    /// </summary>
    public static IServiceCollection AddSpotDevBoxAgent(this IServiceCollection services, IConfiguration configuration)
    {
        // The libraries' part: the agent's options, interruption watcher and idle detection; the metadata service and SSM.
        services.AddSpotDevBoxAgentDomain(configuration);
        services.AddSpotDevBoxAwsOnBox(configuration);
        services.TryAddSingleton<BoxStorage>();
        services.TryAddSingleton<AgentStatusBoard>();
        services.TryAddSingleton<AgentBackups>();
        services.TryAddSingleton<WebhookTarget>();
        services.TryAddSingleton<Notifier>();
        services.TryAddSingleton<SessionRecorder>();
        services.TryAddSingleton<InterruptionResponder>();
        services.TryAddSingleton<IInterruptionHandler>(sp => sp.GetRequiredService<InterruptionResponder>());
        services.TryAddSingleton<AgentLeases>();
        services.TryAddSingleton<AgentStopActions>();
        services.TryAddSingleton<IStopActions>(sp => sp.GetRequiredService<AgentStopActions>());
        services.TryAddSingleton<ILeaseSource>(sp => sp.GetRequiredService<AgentLeases>());
        services.TryAddSingleton<BootRestore>();
        services.TryAddSingleton<StatusPublisher>();
        services.TryAddSingleton<AgentLifetime>();

        var agentSection = configuration.GetSection(AgentOptions.SectionName);
        var backupEvery = agentSection.GetValue(nameof(AgentOptions.BackupInterval), new AgentOptions().BackupInterval);
        var retentionEvery = agentSection.GetValue(nameof(AgentOptions.RetentionInterval), new AgentOptions().RetentionInterval);
        var controlEvery = agentSection.GetValue(nameof(AgentOptions.ControlPollInterval), new AgentOptions().ControlPollInterval);
        var idleEvery = configuration.GetSection(IdleOptions.SectionName).GetValue(nameof(IdleOptions.SampleInterval), new IdleOptions().SampleInterval);
        services.AddQuartz(q =>
        {
            Every<PeriodicBackupJob>(q, backupEvery, backupEvery);
            Every<IdleTickJob>(q, Positive(idleEvery), Positive(idleEvery));
            Every<ControlPollJob>(q, Positive(controlEvery), TimeSpan.Zero);
            if (retentionEvery > TimeSpan.Zero)
            {
                Every<RetentionJob>(q, retentionEvery, TimeSpan.FromMinutes(30));
            }
        });

        services.AddHostedService<InterruptionWatcherService>();
        services.AddHostedService<AgentSettingsAnnouncer>();
        services.AddHostedService(sp => sp.GetRequiredService<BootRestore>());
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        services.AddHostedService(sp => sp.GetRequiredService<StatusPublisher>());
        services.AddHostedService<BackupFailureAlerts>();
        services.AddHostedService(sp => sp.GetRequiredService<AgentLifetime>());
        services.Configure<HostOptions>(o =>
        {
            // The final backup runs inside the host's stop; systemd's TimeoutStopSec must be longer still.
            o.ShutdownTimeout = agentSection.GetValue(nameof(AgentOptions.StopTimeout), new AgentOptions().StopTimeout) + TimeSpan.FromSeconds(15);
        });
        services.AddSystemd();
        return services;
    }

    private static TimeSpan Positive(TimeSpan t) => t > TimeSpan.Zero ? t : TimeSpan.FromMinutes(1);

    // Quartz creates each job through the container (its constructor) and may set job data on its properties.
    private static void Every<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.Interfaces)] TJob>(
        IQuartzBuilder q, TimeSpan interval, TimeSpan firstAfter)
        where TJob : IJob
    {
        // A run missed while the box was busy (or suspended) is not made up for: the next one comes on time.
        q.ScheduleJob<TJob>(
            (sp, t) => t
                .WithIdentity(typeof(TJob).Name)
                .StartAt(sp.GetRequiredService<TimeProvider>().GetUtcNow() + (firstAfter > TimeSpan.Zero ? firstAfter : TimeSpan.FromSeconds(1)))
                .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)),
            (_, j) => j.WithIdentity(typeof(TJob).Name));
    }
}
