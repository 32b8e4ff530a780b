using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;
using Spectre.Console.Cli;
using SpotDevBox.Controller;
using SpotDevBox.Hosting;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Controller;

namespace SpotDevBox.Commands;

internal sealed class ControllerStatusSettings : CommandSettings
{
    [CommandOption("--json")]
    [Description("Print JSON (members, triggers) instead of the tables.")]
    public bool Json { get; set; }

    [CommandOption("--all")]
    [Description("Also list members not seen for more than a day (restarted or removed controllers).")]
    public bool All { get; set; }
}

[Description("Show the controllers on Controller:Database: each member (a controller run process), whether it is alive, its last pass over the boxes, and the next schedule trigger of each box. With PostgreSQL, whether a member is alive is what the cluster itself decides from its check-ins (docs/controller.md, \"Several controllers\").")]
internal sealed class ControllerStatusCommand(IConfiguration configuration, TimeProvider time, Microsoft.Extensions.Logging.ILoggerFactory loggers) : AsyncCommand<ControllerStatusSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ControllerStatusSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var options = ControllerConfiguration.ReadValidated(configuration);
        var database = ControllerDatabase.Resolve(options.Database);
        using var store = new ControllerStore(database, Microsoft.Extensions.Logging.LoggerFactoryExtensions.CreateLogger<ControllerStore>(loggers));
        if (!store.MayExist)
        {
            throw new ArgumentException($"no controller database at {database.Describe}: no controller has run with this configuration (set Controller:Database, or SPOTDEVBOX_CONFIG to the controller's configuration)");
        }

        await store.InitializeAsync(cancellationToken);
        var status = ControllerStatusView.Build(
            database,
            options,
            await store.MembersAsync(cancellationToken),
            await store.ClusterCheckinsAsync(cancellationToken),
            await store.BoxTriggersAsync(cancellationToken),
            await store.GetLastRunAsync(cancellationToken),
            time.GetUtcNow(),
            settings.All);
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(status, ControllerStatusJson.Default.ControllerStatus));
        }
        else
        {
            ControllerStatusView.Print(status, Console.Out);
        }

        return ExitCodes.Ok;
    }
}

/// <summary>What <c>controller status</c> shows.</summary>
internal sealed record ControllerStatus
{
    /// <summary>"sqlite" or "postgresql".</summary>
    public required string Database { get; init; }

    public required bool Clustered { get; init; }

    public required DateTimeOffset Now { get; init; }

    /// <summary>When any controller last completed a pass over every box.</summary>
    public DateTimeOffset? LastPass { get; init; }

    public required List<ControllerStatusMember> Members { get; init; }

    /// <summary>Members not shown: not seen for more than a day (shown with --all).</summary>
    public int OlderMembers { get; init; }

    /// <summary>Each configured box's next schedule trigger, the soonest first; boxes without one are not listed.</summary>
    public required List<BoxTrigger> Triggers { get; init; }

    /// <summary>Configured boxes with no trigger recorded: no controller has run since they were added, or their schedule never changes.</summary>
    public required List<string> BoxesWithoutTrigger { get; init; }

    /// <summary>The next daily savings summary (00:05 UTC).</summary>
    public required DateTimeOffset NextDailySummary { get; init; }
}

internal sealed record ControllerStatusMember
{
    public required string MemberId { get; init; }
    public required string Host { get; init; }
    public required int ProcessId { get; init; }
    public required string Version { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset LastSeen { get; init; }
    /// <summary>Its last check-in with the cluster (PostgreSQL); null on SQLite, or when it left the cluster cleanly.</summary>
    public DateTimeOffset? LastCheckin { get; init; }
    public required bool Alive { get; init; }
    /// <summary>
    /// "alive"; "starting" (recorded, not yet checked in with the cluster); "dead" (silent past the cluster's limit, its
    /// work not yet taken over); "gone" (it stopped, or died and another took its work over).
    /// </summary>
    public required string State { get; init; }
    public DateTimeOffset? LastPassAt { get; init; }
    public double? LastPassSeconds { get; init; }
    public int? LastPassBoxes { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(ControllerStatus))]
internal sealed partial class ControllerStatusJson : JsonSerializerContext;

internal static class ControllerStatusView
{
    /// <summary>Quartz's rule: a member whose check-in is older than its interval plus this is failed, and recovered by another.</summary>
    internal static readonly TimeSpan ClusterGrace = TimeSpan.FromMilliseconds(7500);

    public static ControllerStatus Build(
        ControllerDatabase database,
        ControllerOptions options,
        IReadOnlyList<ControllerMember> members,
        IReadOnlyList<ClusterCheckin> checkins,
        IReadOnlyList<BoxTrigger> triggers,
        DateTimeOffset? lastPass,
        DateTimeOffset now,
        bool all)
    {
        var clustered = database is ControllerDatabase.Postgres;
        var byId = checkins.ToDictionary(c => c.MemberId, StringComparer.Ordinal);
        var shown = new List<ControllerStatusMember>();
        var older = 0;
        foreach (var m in members)
        {
            string state;
            DateTimeOffset? lastCheckin = null;
            if (clustered)
            {
                if (byId.TryGetValue(m.MemberId, out var c))
                {
                    lastCheckin = c.LastCheckin;
                    state = now - c.LastCheckin <= c.Interval + ClusterGrace ? "alive" : "dead";
                }
                else
                {
                    // No check-in: just started (it records itself before it joins), or gone: Quartz removes a member's
                    // row when it shuts down cleanly, and a dead one's when another has taken its work over.
                    state = now - m.StartedAt <= 2 * options.Cluster.CheckinInterval + ClusterGrace ? "starting" : "gone";
                }
            }
            else
            {
                state = now - m.LastSeen <= 2 * options.Cluster.CheckinInterval + ClusterGrace ? "alive" : "gone";
            }

            if (!all && state is not ("alive" or "starting") && now - m.LastSeen > TimeSpan.FromDays(1))
            {
                older++;
                continue;
            }

            shown.Add(new ControllerStatusMember
            {
                MemberId = m.MemberId,
                Host = m.Host,
                ProcessId = m.ProcessId,
                Version = m.Version,
                StartedAt = m.StartedAt,
                LastSeen = m.LastSeen,
                LastCheckin = lastCheckin,
                Alive = state is "alive" or "starting",
                State = state,
                LastPassAt = m.LastPassAt,
                LastPassSeconds = m.LastPassSeconds,
                LastPassBoxes = m.LastPassBoxes,
            });
        }

        var configured = triggers.Where(t => options.Boxes.ContainsKey(t.Box)).ToList();
        var without = options.Boxes.Keys.Where(b => configured.All(t => t.Box != b)).Order(StringComparer.Ordinal).ToList();
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddMinutes(5);
        return new ControllerStatus
        {
            Database = clustered ? "postgresql" : "sqlite",
            Clustered = clustered,
            Now = now,
            LastPass = lastPass,
            Members = shown,
            OlderMembers = older,
            Triggers = configured,
            BoxesWithoutTrigger = without,
            NextDailySummary = today > now ? today : today.AddDays(1),
        };
    }

    public static void Print(ControllerStatus status, TextWriter output)
    {
        var alive = status.Members.Count(m => m.Alive);
        output.WriteLine(status.Clustered
            ? $"Controllers on {ControllerDatabase.Postgres.Description}: a cluster, {alive} of {status.Members.Count} alive."
            : $"Controller on an SQLite database: one controller at a time; {(alive > 0 ? "it is running" : "none is running")}.");
        output.WriteLine($"Last pass over every box: {Time(status.LastPass)}.");
        output.WriteLine();
        if (status.Members.Count == 0)
        {
            output.WriteLine("No controller has recorded itself here yet (controller run does, as it starts).");
        }
        else
        {
            var rows = status.Members.Select(m => new[]
            {
                m.MemberId,
                m.State,
                m.Host,
                m.ProcessId.ToString(CultureInfo.InvariantCulture),
                Time(m.StartedAt),
                Ago(status.Now, m.LastCheckin ?? m.LastSeen),
                m.LastPassAt is { } p ? $"{Time(p)} ({m.LastPassSeconds?.ToString("0.0", CultureInfo.InvariantCulture)} s, {m.LastPassBoxes} boxes)" : "-",
                m.Version,
            }).ToList();
            Table(output, ["MEMBER", "STATE", "HOST", "PID", "STARTED (UTC)", "LAST HEARD", "LAST PASS (UTC)", "VERSION"], rows);
        }

        if (status.OlderMembers > 0)
        {
            output.WriteLine($"({status.OlderMembers} member(s) not seen for more than a day not shown: --all lists them.)");
        }

        output.WriteLine();
        output.WriteLine("Next triggers:");
        var triggers = status.Triggers.Select(t => new[] { t.Box, Time(t.FireAt), Time(t.ChangeAt), t.SetBy }).ToList();
        if (triggers.Count > 0)
        {
            Table(output, ["BOX", "FIRES AT (UTC)", "SCHEDULE CHANGE (UTC)", "SET BY"], triggers);
        }

        if (status.BoxesWithoutTrigger.Count > 0)
        {
            output.WriteLine($"No trigger recorded for: {string.Join(", ", status.BoxesWithoutTrigger)} (no pass since they were added, or a schedule that never changes).");
        }

        output.WriteLine($"Daily savings summary: {Time(status.NextDailySummary)}; a pass over every box every Controller:Reconcile:Interval.");
    }

    private static string Time(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "never";

    private static string Ago(DateTimeOffset now, DateTimeOffset then)
    {
        var span = now - then;
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalSeconds < 120
            ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0} s ago")
            : span.TotalMinutes < 120 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0} min ago") : string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0} h ago");
    }

    private static void Table(TextWriter output, string[] headers, List<string[]> rows)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(string.Join("  ", headers.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        }
    }
}
