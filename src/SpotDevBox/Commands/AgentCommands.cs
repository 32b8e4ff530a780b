using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog.Core;
using Serilog.Events;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Agent;
using SpotDevBox.Controller;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Idle;
using SpotDevBox.Core.Schedules;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

internal sealed class AgentRunSettings : CommandSettings, IVerbHostSettings
{
    public VerbHost Host => VerbHost.Agent;
}

[Description("Run the on-box agent (the systemd service): restore at boot, periodic backups, the spot notice, idle shutdown. Configured by the \"Agent\" section. Exits 0 when stopped after its final backup committed (partial if Agent:StopTimeout was too short for all changes), 1 when the final backup committed nothing (the last changes are lost), 2 for an invalid configuration.")]
internal sealed class AgentRunCommand(IServiceProvider services, LoggingLevelSwitch consoleLevel) : AsyncCommand<AgentRunSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, AgentRunSettings settings, CancellationToken cancellationToken)
    {
        // The journal is the agent's console: every decision shows there.
        consoleLevel.MinimumLevel = LogEventLevel.Information;
        var host = services.GetRequiredService<IHost>();
        // Resolved before the run: the host disposes its services when it ends.
        var lifetime = services.GetRequiredService<AgentLifetime>();
        await host.RunAsync(cancellationToken);
        // systemd shows it ("status=1/FAILURE"), so a stop that lost work does not pass for a clean one.
        return lifetime.FinalBackupLost ? ExitCodes.Failure : ExitCodes.Ok;
    }
}

internal sealed class StatusSettings : CommandSettings
{
    [CommandArgument(0, "[BOX]")]
    [Description("One box: a name in Controller:Boxes (EC2's view, its agent's and its schedule's), or a storage prefix s3://bucket/ROOT/OWNER/BOX (its agent's status alone). Without it: on a box, its agent's view; elsewhere, every configured box.")]
    public string? BoxArgument { get; set; }

    [CommandOption(Commands.BoxArgument.AliasOption, IsHidden = true)]
    [Description("The same as BOX (an alias).")]
    public string? BoxOption { get; set; }

    [CommandOption("--json")]
    [Description("Print the status document as JSON.")]
    public bool Json { get; set; }

    public string? Box => Commands.BoxArgument.Of(BoxArgument, BoxOption);

    public override ValidationResult Validate() => Commands.BoxArgument.Check("status", BoxArgument, BoxOption);
}

[Description("On a box: what its agent is doing (\"awake because ...\" or \"idle for 23 min, stopping in 7 min\"), the last snapshot and any lease. Elsewhere: every configured box — state, address, type, zone and price, uptime and cost so far, last snapshot, awake-because, next start and stop.")]
internal sealed class StatusCommand(IConfiguration configuration, RepositoryOpener opener, TimeProvider time, IServiceProvider services) : AsyncCommand<StatusSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, StatusSettings settings, CancellationToken cancellationToken)
    {
        var agent = AgentConfiguration.Read(configuration);
        AgentStatus? status;
        Lease? localLease = null;
        var onBox = AgentConfiguration.OnBox(agent);
        var named = settings.Box is { } b && !BoxReference.IsPrefix(b);
        if (named || (settings.Box is null && !onBox && configuration.GetSection($"{Core.Boxes.ControllerOptions.SectionName}:Boxes").GetChildren().Any()))
        {
            return await FleetAsync(settings, cancellationToken);
        }

        if (settings.Box is { } prefix)
        {
            var box = BoxReference.Resolve(prefix, configuration);
            using var storage = BoxStorage.ForPrefix(box, opener, time);
            status = await storage.ReadStatusAsync(cancellationToken);
            if (status is null)
            {
                // As for down: a prefix where no agent ever reported is most likely a typo (exit 2, fix the command).
                Console.Error.WriteLine($"spotdevbox: no status in {box}: no agent ever reported there; check the box's name or prefix");
                return ExitCodes.InvalidInput;
            }
        }
        else
        {
            var path = Path.Combine(agent.RunDirectory, "status.json");
            if (!File.Exists(path))
            {
                // Not a box (its agent writes this file while it runs), and no box is configured here to list instead.
                Console.Error.WriteLine($"spotdevbox: this is not a box (no agent status at {path}) and no box is configured (Controller:Boxes): name one, spotdevbox status s3://bucket/ROOT/OWNER/BOX, or set SPOTDEVBOX_CONFIG; on a box: systemctl status spotdevbox-agent");
                return ExitCodes.InvalidInput;
            }

            status = BoxJson.Parse(await File.ReadAllBytesAsync(path, cancellationToken), BoxJson.Default.AgentStatus, path);
            try
            {
                localLease = LeaseFile.InRunDirectory(agent.RunDirectory).Read();
            }
            catch (LeaseUnreadableException e)
            {
                Terminal.Warn(e.Message);
            }
        }

        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(status, BoxJson.Default.AgentStatus));
            return ExitCodes.Ok;
        }

        var now = time.GetUtcNow();
        // status.json is the box's word: every line goes through Terminal.Safe.
        Console.Out.WriteLine(Terminal.Safe($"{status.Box}: {status.State.ToString().ToLowerInvariant()}" + (status.Activity is { } a ? $" — {a}" : "")));
        if (status.InstanceId is not null)
        {
            Console.Out.WriteLine(Terminal.Safe($"  instance   {status.InstanceId} ({status.InstanceType}, {status.AvailabilityZone}, {status.Lifecycle}), up {Terminal.Duration(now - status.SessionStart)}"));
        }

        Console.Out.WriteLine(Terminal.Safe(status.LastSnapshotId is { } id
            ? $"  snapshot   {(id.Length > 8 ? id[..8] : id)}, {Terminal.Duration(now - (status.LastSnapshotTime ?? now))} ago{(status.LastSnapshotPartial ? " (partial)" : "")}"
            : "  snapshot   none yet"));
        if (status.LastBackupError is { } error)
        {
            Console.Out.WriteLine(Terminal.Safe($"  last error {error}"));
        }

        var lease = localLease is { } l && l.IsActiveAt(now) ? l : status.LeaseUntil is { } until && until > now ? new Lease(until, status.LeaseSetBy, null) : null;
        if (lease is not null)
        {
            Console.Out.WriteLine(Terminal.Safe($"  keepalive  {lease.Describe(now)} (cancel: spotdevbox keepalive --cancel)"));
        }

        if (status.Notice is { } notice)
        {
            Console.Out.WriteLine(Terminal.Safe($"  notice     {notice}"));
        }

        Console.Out.WriteLine(Terminal.Safe($"  updated    {Terminal.Duration(now - status.UpdatedAt)} ago (agent {status.AgentVersion})"));
        return ExitCodes.Ok;
    }

    private async Task<int> FleetAsync(StatusSettings settings, CancellationToken cancellationToken)
    {
        var controller = ControllerConfiguration.ReadValidated(configuration);
        var boxes = controller.Boxes;
        IReadOnlyDictionary<string, Core.Boxes.BoxOptions> chosen = boxes.AsReadOnly();
        if (settings.Box is { } one)
        {
            chosen = boxes.TryGetValue(one, out var options)
                ? new Dictionary<string, Core.Boxes.BoxOptions> { [one] = options }
                : throw new ArgumentException(UpCommand.UnknownBox(one, controller) + "; or give its storage prefix s3://bucket/ROOT/OWNER/BOX");
        }

        var fleet = new FleetStatus(
            services.GetRequiredService<Core.Compute.IComputeGatewayFactory>(),
            services.GetRequiredService<Core.Controller.IBoxDocuments>(),
            time);
        var rows = await fleet.GatherAsync(chosen, cancellationToken);
        if (settings.Json)
        {
            Console.Out.WriteLine(FleetStatus.Json(rows));
        }
        else
        {
            FleetStatus.Print(rows, time.GetUtcNow(), Console.Out);
        }

        return rows.Any(r => r.Problem is not null) ? ExitCodes.Failure : ExitCodes.Ok;
    }
}

internal sealed class KeepaliveSettings : CommandSettings
{
    [CommandArgument(0, "[BOX]")]
    [Description("Set the lease from elsewhere, in the box's control document (a box named in Controller:Boxes, or its prefix s3://bucket/ROOT/OWNER/BOX); the agent reads it within a minute. Without it: this box, at once. A single argument that starts with a digit is the DURATION.")]
    public string? First { get; set; }

    [CommandArgument(1, "[DURATION]")]
    [Description("How long to keep the box awake from now: 90m, 2h, 1h30m, 1d.")]
    public string? Second { get; set; }

    [CommandOption("--cancel")]
    [Description("Cancel the lease: the idle policy decides again.")]
    public bool Cancel { get; set; }

    [CommandOption("--note <TEXT>")]
    [Description("Why, shown by status (e.g. 'training run').")]
    public string? Note { get; set; }

    [CommandOption(BoxArgument.AliasOption, IsHidden = true)]
    [Description("The same as BOX (an alias).")]
    public string? BoxOption { get; set; }

    [CommandOption("--json")]
    [Description("Print the lease as JSON: where it was written, until when, by whom (null values when cancelled).")]
    public bool Json { get; set; }

    /// <summary>
    /// keepalive 2h (this box), keepalive alice 2h, keepalive alice --cancel: one argument that starts with a digit is the
    /// duration (so that 8d is refused as a duration, not taken for a box's name).
    /// </summary>
    private bool FirstIsDuration => First is not null && Second is null && LooksLikeDuration(First);

    private static bool LooksLikeDuration(string text) => text.TrimStart() is [>= '0' and <= '9', ..] || KeepaliveCommand.TryParseDuration(text, out _);

    public string? Box => BoxArgument.Of(FirstIsDuration ? null : First, BoxOption);

    public string? Duration => FirstIsDuration ? First : Second;

    public override ValidationResult Validate()
    {
        if (First is not null && Second is not null && LooksLikeDuration(First))
        {
            return ValidationResult.Error($"'{First}' is a duration, and the box comes first: spotdevbox keepalive BOX DURATION");
        }

        if (BoxArgument.Check("keepalive", FirstIsDuration ? null : First, BoxOption) is { Successful: false } twice)
        {
            return twice;
        }

        if (Cancel == (Duration is not null))
        {
            return ValidationResult.Error("give a duration (e.g. 'keepalive 2h', 'keepalive alice 2h') or --cancel");
        }

        if (Duration is not null && !KeepaliveCommand.TryParseDuration(Duration, out _))
        {
            return ValidationResult.Error($"'{Duration}' is not a duration between 1 minute and 7 days (examples: 45m, 2h, 1h30m, 1d)");
        }

        return ValidationResult.Success();
    }
}

[Description("Keep the box awake for a while whatever the idle signals say (a lease), or cancel it. On the box it takes effect at once.")]
internal sealed class KeepaliveCommand(IConfiguration configuration, RepositoryOpener opener, TimeProvider time) : AsyncCommand<KeepaliveSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, KeepaliveSettings settings, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var who = Environment.GetEnvironmentVariable("SUDO_USER") is { Length: > 0 } sudo ? sudo : Environment.UserName;
        Lease? lease = null;
        if (settings.Duration is { } text)
        {
            if (!TryParseDuration(text, out var duration))
            {
                throw new ArgumentException($"'{text}' is not a duration between 1 minute and 7 days");
            }

            lease = new Lease(now + duration, who, settings.Note);
        }

        if (settings.Box is { } named)
        {
            var box = BoxReference.Resolve(named, configuration);
            using var storage = BoxStorage.ForPrefix(box, opener, time);
            var control = await storage.ReadControlAsync(cancellationToken) ?? new ControlDocument();
            await storage.WriteControlAsync(control with { LeaseUntil = lease?.Until, LeaseSetBy = lease?.SetBy, LeaseNote = lease?.Note, UpdatedAt = now }, cancellationToken);
            if (settings.Json)
            {
                Console.Out.WriteLine(LeaseJson($"{box}/control.json", lease, cancelled: lease is null));
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine(lease is null ? $"lease cancelled in {box}/control.json" : $"{box}: {lease.Describe(now)}; the agent reads it within a minute");
            return ExitCodes.Ok;
        }

        var agent = AgentConfiguration.Read(configuration);
        if (!AgentConfiguration.OnBox(agent))
        {
            throw new ArgumentException(
                $"this is not a box: no agent reports here (no status.json in Agent:RunDirectory); name the box: spotdevbox keepalive BOX {settings.Duration ?? "--cancel"}; nothing was written");
        }

        var file = LeaseFile.InRunDirectory(agent.RunDirectory);
        if (lease is null)
        {
            var cancelled = WithLeaseDirectory(file, file.Cancel);
            Console.Out.WriteLine(settings.Json ? LeaseJson(file.Path, null, cancelled) : cancelled ? "lease cancelled: the idle policy decides again" : "there was no lease on this box");
            return ExitCodes.Ok;
        }

        WithLeaseDirectory(file, () =>
        {
            file.Write(lease);
            return true;
        });
        if (settings.Json)
        {
            Console.Out.WriteLine(LeaseJson(file.Path, lease, cancelled: false));
            return ExitCodes.Ok;
        }

        Console.Out.WriteLine($"keeping this box awake: {lease.Describe(now)} (cancel: spotdevbox keepalive --cancel)");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The lease directory (Agent:RunDirectory/lease) is root:spotdevbox, mode 2770, on a box: root and the members of
    /// the spotdevbox group may set a lease there, nobody else.
    /// </summary>
    private static bool WithLeaseDirectory(LeaseFile file, Func<bool> change)
    {
        var directory = Path.GetDirectoryName(file.Path)!;
        try
        {
            return change();
        }
        catch (UnauthorizedAccessException)
        {
            throw new UnauthorizedAccessException(
                $"cannot set a lease in {directory}: only root and members of the spotdevbox group may (sudo usermod -aG spotdevbox $USER, then log in again); nothing was written");
        }
    }

    /// <summary>--json: where the lease was written (or removed), until when, by whom and why; cancelled is false when there was none to cancel.</summary>
    private static string LeaseJson(string where, Lease? lease, bool cancelled)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("written_to", where);
            if (lease is null)
            {
                json.WriteNull("until");
                json.WriteNull("set_by");
                json.WriteNull("note");
            }
            else
            {
                json.WriteString("until", lease.Until);
                json.WriteString("set_by", lease.SetBy);
                json.WriteString("note", lease.Note);
            }

            json.WriteBoolean("cancelled", cancelled);
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>45m, 2h, 1h30m, 1d: at least a minute, at most a week.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var m = System.Text.RegularExpressions.Regex.Match(text.Trim(), @"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        if (!m.Success || text.Trim().Length == 0)
        {
            return false;
        }

        int Part(int i) => m.Groups[i].Success ? int.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture) : 0;
        try
        {
            duration = TimeSpan.FromDays(Part(1)) + TimeSpan.FromHours(Part(2)) + TimeSpan.FromMinutes(Part(3));
        }
        catch (Exception e) when (e is OverflowException or ArgumentOutOfRangeException)
        {
            // int.Parse overflows past int.MaxValue; TimeSpan.FromDays/FromHours(int) throws ArgumentOutOfRangeException past TimeSpan.MaxValue.
            return false;
        }

        return duration >= TimeSpan.FromMinutes(1) && duration <= TimeSpan.FromDays(7);
    }
}

/// <summary>The agent's settings for the verbs a person types on the box: bound, not validated (they need no Box).</summary>
internal static class AgentConfiguration
{
    /// <summary>The status file the agent rewrites while it runs: Agent:RunDirectory/status.json.</summary>
    public static string StatusPath(AgentOptions agent) => Path.Combine(agent.RunDirectory, "status.json");

    /// <summary>
    /// "On a box" means an agent runs, or ran since boot, here: it writes its status into Agent:RunDirectory (a tmpfs
    /// on a box, so a laptop that once ran an agent by hand loses it at reboot). Nothing else (a hostname, IMDS) is asked.
    /// </summary>
    public static bool OnBox(AgentOptions agent) => File.Exists(StatusPath(agent));

    public static AgentOptions Read(IConfiguration configuration)
    {
        var options = new AgentOptions();
        configuration.GetSection(AgentOptions.SectionName).Bind(options);
        return options;
    }
}

internal sealed class DownSettings : CommandSettings
{
    [CommandArgument(0, "[BOX]")]
    [Description("The box: a name in Controller:Boxes, or its storage prefix (s3://bucket/ROOT/OWNER/BOX).")]
    public string? BoxArgument { get; set; }

    [CommandOption(Commands.BoxArgument.AliasOption, IsHidden = true)]
    [Description("The same as BOX (an alias).")]
    public string? BoxOption { get; set; }

    public string? Box => Commands.BoxArgument.Of(BoxArgument, BoxOption);

    [CommandOption("--note <TEXT>")]
    [Description("Why, recorded in the control document and the agent's log.")]
    public string? Note { get; set; }

    [CommandOption("--json")]
    [Description("Print the stop asked as JSON on stdout (box, storage, stop_requested_at, requested_by, down_until).")]
    public bool Json { get; set; }

    [CommandOption("--until <WHEN>")]
    [Description("Keep it down until then, whatever the schedule says (an override the controller honours): a weekday (monday: that day's first scheduled start) or a date (2026-12-28). Needs a box named in Controller:Boxes.")]
    public string? Until { get; set; }

    public override ValidationResult Validate()
    {
        if (Commands.BoxArgument.Check("down", BoxArgument, BoxOption) is { Successful: false } twice)
        {
            return twice;
        }

        if (string.IsNullOrWhiteSpace(Box))
        {
            return ValidationResult.Error("name the box: spotdevbox down NAME, or spotdevbox down s3://bucket/ROOT/OWNER/BOX");
        }

        return Until is null || DownCommand.TryParseUntil(Until, out _, out _)
            ? ValidationResult.Success()
            : ValidationResult.Error($"--until '{Until}' is neither a weekday (monday ... sunday) nor a date (yyyy-MM-dd)");
    }
}

[Description("Stop a box from anywhere: its agent warns logged-in users, takes a final backup and powers the box off once that backup committed. Works without a controller (through the box's control document).")]
internal sealed class DownCommand(IConfiguration configuration, RepositoryOpener opener, TimeProvider time, IServiceProvider services) : AsyncCommand<DownSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DownSettings settings, CancellationToken cancellationToken)
    {
        var box = BoxReference.Resolve(settings.Box!, configuration);
        var now = time.GetUtcNow();
        var who = Environment.GetEnvironmentVariable("SUDO_USER") is { Length: > 0 } sudo ? sudo : Environment.UserName;
        ScheduleOverride? down = null;
        if (settings.Until is { } until)
        {
            var controller = ControllerConfiguration.ReadValidated(configuration);
        var boxes = controller.Boxes;
            if (!boxes.TryGetValue(settings.Box!, out var options))
            {
                throw new ArgumentException($"--until needs the box's schedule: name a box configured in Controller:Boxes, not a prefix ('{settings.Box}')");
            }

            if (!TryParseUntil(until, out var day, out var date))
            {
                throw new ArgumentException($"--until '{until}' is neither a weekday nor a date (yyyy-MM-dd)");
            }

            var schedule = options.Schedule.ToSchedule();
            down = day is { } d ? ScheduleOverride.DownUntil(schedule, d, now, who, settings.Note) : ScheduleOverride.DownUntil(schedule, date!.Value, now, who, settings.Note);
            if (down.Until <= now)
            {
                throw new ArgumentException($"--until {until} is not in the future");
            }
        }

        using var storage = BoxStorage.ForPrefix(box, opener, time);
        // A stop asked where nothing runs and no agent ever reported is a mistyped box or prefix: said, and nothing
        // written (a stray control document would stop the next box that uses the prefix). With --until the override
        // is the point, running or not.
        if (down is null && !await storage.HasStatusAsync(cancellationToken) && !await LiveInstanceAsync(settings.Box!, cancellationToken))
        {
            throw new ArgumentException($"nothing runs at {box}: no agent ever reported there (no status.json){(BoxReference.IsPrefix(settings.Box!) ? "" : " and EC2 lists no instance of it")}; check the box's name or prefix; nothing was written");
        }

        var control = await storage.ReadControlAsync(cancellationToken) ?? new ControlDocument();
        // A stop cancels a lease: asking for the box to go down means nobody wants it kept up.
        await storage.WriteControlAsync(
            control with
            {
                StopAt = now,
                StopReason = "manual",
                StopInstanceId = null,
                RequestedBy = settings.Note is { Length: > 0 } note ? $"{who}: {note}" : who,
                LeaseUntil = null,
                LeaseSetBy = null,
                LeaseNote = null,
                // An up override (up --for, or up outside the schedule) ends too: left in place, the controller
                // would launch the box again as soon as the agent powered it off.
                Override = down is not null ? OverrideDocument.Of(down) : control.Override?.Kind == OverrideKind.Up ? null : control.Override,
                UpdatedAt = now,
            },
            cancellationToken);
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(
                new DownOutput(settings.Box!, box, now, settings.Note is { Length: > 0 } n ? $"{who}: {n}" : who, down?.Until),
                CommandJson.Default.DownOutput));
            return ExitCodes.Ok;
        }

        Console.Out.WriteLine($"asked {box} to stop: within a minute its agent warns logged-in users, takes a final backup, then powers off (follow it with: spotdevbox status {settings.Box})");
        if (down is not null)
        {
            Console.Out.WriteLine($"it stays down until {Terminal.LocalTime(down.Until, time.LocalTimeZone)} (the controller will not start it before; spotdevbox up {settings.Box} does)");
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// Whether EC2 lists a live instance of a box named in Controller:Boxes (a box just launched whose agent has not
    /// reported yet). A prefix names no instance; an EC2 that cannot be asked counts as yes: the stop is asked, as before.
    /// </summary>
    private async Task<bool> LiveInstanceAsync(string box, CancellationToken cancellationToken)
    {
        if (BoxReference.IsPrefix(box))
        {
            return false;
        }

        var options = ControllerConfiguration.ReadValidated(configuration).Boxes[box];
        try
        {
            var instances = await services.GetRequiredService<Core.Compute.IComputeGatewayFactory>().ForRegion(options.Region).FindBoxInstancesAsync(box, cancellationToken);
            return instances.Any(i => i.IsLive);
        }
        catch (Core.Compute.ComputeException)
        {
            return true;
        }
    }

    /// <summary>A weekday (monday, mon) or a date (yyyy-MM-dd).</summary>
    internal static bool TryParseUntil(string text, out DayOfWeek? day, out DateOnly? date)
    {
        (day, date) = (null, null);
        var t = text.Trim();
        if (DateOnly.TryParseExact(t, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            date = d;
            return true;
        }

        foreach (var candidate in Enum.GetValues<DayOfWeek>())
        {
            var name = candidate.ToString();
            if (t.Length >= 3 && name.StartsWith(t, StringComparison.OrdinalIgnoreCase))
            {
                day = candidate;
                return true;
            }
        }

        return false;
    }
}

/// <summary>A box argument: a name from Controller:Boxes (its Storage prefix), or a prefix given directly.</summary>
internal static class BoxReference
{
    /// <summary>A storage prefix given directly (s3://..., /path, ./path) rather than a box's name.</summary>
    public static bool IsPrefix(string box) => box.Contains("://", StringComparison.Ordinal) || box.StartsWith('/') || box.StartsWith('.');

    /// <summary>The configured boxes as an error message lists them: "configured: alice, bob" or that there is none.</summary>
    public static string Known(ControllerOptions controller) =>
        controller.Boxes.Count == 0 ? "none is configured (Controller:Boxes)" : "configured: " + string.Join(", ", controller.Boxes.Keys.Order(StringComparer.Ordinal));

    public static string Resolve(string box, IConfiguration configuration)
    {
        if (IsPrefix(box))
        {
            return box;
        }

        var controller = ControllerConfiguration.ReadValidated(configuration);
        if (controller.Boxes.TryGetValue(box, out var options))
        {
            return options.Storage;
        }

        throw new ArgumentException($"there is no box '{box}' ({Known(controller)}); name one, or give its storage prefix s3://bucket/ROOT/OWNER/BOX");
    }
}
