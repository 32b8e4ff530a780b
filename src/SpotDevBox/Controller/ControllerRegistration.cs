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
        // One controller at a time per box: across the cluster on PostgreSQL, within this process on SQLite.
        services.TryAddSingleton<IBoxLocks>(sp => sp.GetRequiredService<ControllerStore>() is { Database: ControllerDatabase.Postgres } store
            ? new PostgresBoxLocks(store, sp.GetRequiredService<TimeProvider>())
            : new InProcessBoxLocks());
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

        // Several controllers on one PostgreSQL database form a cluster through Quartz's clustered job store; on SQLite
        // Quartz keeps its triggers in memory, as one controller needs. A value that does not resolve is reported (exit 2)
        // by the command before the host starts.
        var database = TryResolve(configuration[$"{ControllerOptions.SectionName}:{nameof(ControllerOptions.Database)}"]);
        var checkin = configuration.GetSection($"{ControllerOptions.SectionName}:{nameof(ControllerOptions.Cluster)}")
            .GetValue(nameof(ClusterOptions.CheckinInterval), new ClusterOptions().CheckinInterval);
        if (checkin <= TimeSpan.Zero)
        {
            checkin = new ClusterOptions().CheckinInterval;
        }

        var identity = ControllerIdentity.New();
        services.TryAddSingleton(identity);
        services.TryAddSingleton<ControllerMembership>();
        // Before Quartz's hosted service: the migrations (Quartz's tables among them) run first.
        services.AddHostedService(sp => sp.GetRequiredService<ControllerMembership>());
        services.Configure<QuartzOptions>(o =>
        {
            // Every controller that starts puts the reconcile and daily-summary triggers as this release defines them.
            o.Scheduling.OverwriteExistingData = true;
            o.Scheduling.IgnoreDuplicates = false;
        });

        services.AddQuartz(q =>
        {
            // No UseTimeProvider: the scheduler then runs on the container's TimeProvider, the application's (a test's fake).
            q.ConfigureScheduler(o =>
            {
                o.InstanceName = "spotdevbox-controller";
                o.InstanceId = identity.MemberId;
            });
            if (database is ControllerDatabase.Postgres postgres)
            {
                q.UsePersistentStore(store =>
                {
                    store.UsePostgres(Npgsql.NpgsqlFactory.Instance, postgres.ConnectionString);
                    store.UseSystemTextJsonSerializer();
                    store.UseClustering(c =>
                    {
                        c.CheckinInterval = checkin;
                        c.CheckinMisfireThreshold = checkin;
                    });
                    store.ConfigureStore(o =>
                    {
                        o.TablePrefix = QuartzSchema.TablePrefix;
                        // The store's migrations made the tables; Quartz checks them and creates nothing.
                        o.SchemaProvisioning = SchemaProvisioning.Validate;
                    });
                });
            }

            // The first pass at once: that is the start-up alignment (missed starts and stops included).
            q.ScheduleJob<ReconcileJob>(
                (sp, t) => t
                    .WithIdentity("reconcile", "controller")
                    .StartAt(sp.GetRequiredService<TimeProvider>().GetUtcNow() + TimeSpan.FromMilliseconds(200))
                    .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)),
                (_, j) => j.WithIdentity("reconcile", "controller").RequestRecovery());
            // Recovery: a transition or pass that was running on a controller that died runs again on another.
            q.AddJob<TransitionJob>(j => j.WithIdentity(TransitionTriggers.Job).StoreDurably().RequestRecovery());
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

    private static ControllerDatabase? TryResolve(string? setting)
    {
        try
        {
            return ControllerDatabase.Resolve(setting);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
