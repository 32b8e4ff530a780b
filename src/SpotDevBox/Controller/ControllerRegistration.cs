using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quartz;
using SpotDevBox.Aws;
using SpotDevBox.Core;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Launch;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Controller;

internal static class ControllerRegistration
{
    /// <summary>
    /// What launches and reconciles boxes: the options (read and validated once: an invalid box stops the
    /// program with exit code 2 before anything runs), the store, the box documents, the user data.
    /// </summary>
    public static IServiceCollection AddSpotDevBoxControllerCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSpotDevBoxAws(configuration);
        services.AddSpotDevBoxControllerDomain();
        services.TryAddSingleton<IOptions<ControllerOptions>>(_ => Options.Create(ControllerConfiguration.ReadValidated(configuration)));
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ControllerOptions>>().Value;
            return new ControllerStore(ControllerDatabase.Resolve(options.Database), sp.GetRequiredService<ILogger<ControllerStore>>());
        });
        services.TryAddSingleton<IControllerStore>(sp => sp.GetRequiredService<ControllerStore>());
        services.TryAddSingleton<ILedgerStore>(sp => sp.GetRequiredService<ControllerStore>());
        services.TryAddSingleton<IRepositorySizes, RepositorySizes>();
        services.TryAddSingleton<IBoxDocuments, ControllerBoxDocuments>();
        services.TryAddSingleton<ILaunchUserData, ControllerUserData>();
        services.TryAddSingleton<ILaunchClaimStore, BoxLaunchClaimStore>();
        return services;
    }

    /// <summary><c>spotdevbox controller run</c>: the reconcile pass every Controller:Reconcile:Interval, and one trigger per box at its next start or stop.</summary>
    public static IServiceCollection AddSpotDevBoxController(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSpotDevBoxControllerCore(configuration);
        services.TryAddSingleton<TransitionTriggers>();
        var interval = configuration.GetSection($"{ControllerOptions.SectionName}:Reconcile").GetValue(nameof(ReconcileOptions.Interval), new ReconcileOptions().Interval);
        if (interval <= TimeSpan.Zero)
        {
            // The validator names the setting at start; Quartz only needs a positive interval to be built.
            interval = new ReconcileOptions().Interval;
        }

        services.AddQuartz(q =>
        {
            // The first pass at once: that is the start-up alignment (missed starts and stops included).
            q.ScheduleJob<ReconcileJob>(
                (sp, t) => t
                    .WithIdentity("reconcile", "controller")
                    .StartAt(sp.GetRequiredService<TimeProvider>().GetUtcNow() + TimeSpan.FromMilliseconds(200))
                    .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)),
                (_, j) => j.WithIdentity("reconcile", "controller"));
            q.AddJob<TransitionJob>(j => j.WithIdentity(TransitionTriggers.Job).StoreDurably());
            q.ScheduleJob<DailySummaryJob>(
                t => t.WithIdentity("daily-summary", "controller").WithCronSchedule("0 5 0 * * ?", c => c.InTimeZone(TimeZoneInfo.Utc)),
                j => j.WithIdentity("daily-summary", "controller"));
        });
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        services.AddSystemd();

        // Metrics: only controller run exports them (the CLI verbs' Reconciler gets none).
        services.AddSpotDevBoxControllerMetrics(configuration);
        return services;
    }
}
