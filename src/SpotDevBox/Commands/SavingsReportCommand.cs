using System.ComponentModel;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serilog.Core;
using Serilog.Events;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Controller;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Savings;
using SpotDevBox.Hosting;
using SpotDevBox.Savings;

namespace SpotDevBox.Commands;

internal sealed class SavingsReportSettings : CommandSettings
{
    internal static readonly string[] Groupings = ["day", "week", "month", "box", "owner"];
    internal static readonly string[] Formats = ["table", "csv", "json", "html"];

    [CommandOption("--from <TIME>")]
    [Description("Start: 2026-11-01 or 2026-11-01T09:00, in --tz (UTC by default); or with Z or an offset. Default: the start of the current month.")]
    public string? From { get; set; }

    [CommandOption("--to <TIME>")]
    [Description("End (exclusive), as --from: 2026-12-01 means up to that midnight. Default, and at the latest: now.")]
    public string? To { get; set; }

    [CommandOption("--box <BOX>")]
    [Description("Only this box.")]
    public string? Box { get; set; }

    [CommandOption("--owner <OWNER>")]
    [Description("Only this owner's boxes and sessions.")]
    public string? Owner { get; set; }

    [CommandOption("--by <LINES>")]
    [Description("One line per day (default), week (ISO, Monday first), month, box or owner.")]
    public string By { get; set; } = "day";

    [CommandOption("--tz <ZONE>")]
    [Description("IANA time zone where days, weeks and months begin and --from/--to are read (e.g. Europe/Berlin). Default: UTC.")]
    public string? TimeZone { get; set; }

    [CommandOption("--format <FORMAT>")]
    [Description("table (default), csv, json or html (one self-contained page with a chart); the columns are in docs/savings.md.")]
    public string? FormatOption { get; set; }

    [CommandOption("--json")]
    [Description("The same as --format json.")]
    public bool Json { get; set; }

    /// <summary>--format, or json with --json; table when neither is given.</summary>
    public string Format => Json ? "json" : FormatOption ?? "table";

    [CommandOption("-o|--output <FILE>")]
    [Description("Write the report to this file instead of stdout.")]
    public string? Output { get; set; }

    [CommandOption("-v|--verbose")]
    [Description("Show informational log lines on the console, after a line saying where the log file is.")]
    public bool Verbose { get; set; }

    public override ValidationResult Validate()
    {
        if (Json && FormatOption is not null && FormatOption != "json")
        {
            return ValidationResult.Error($"--json and --format {FormatOption} disagree: give one of them");
        }

        if (!Groupings.Contains(By, StringComparer.Ordinal))
        {
            return ValidationResult.Error($"--by '{By}' is not one of {string.Join(", ", Groupings)}");
        }

        if (!Formats.Contains(Format, StringComparer.Ordinal))
        {
            return ValidationResult.Error($"--format '{Format}' is not one of {string.Join(", ", Formats)}");
        }

        TimeZoneInfo zone;
        try
        {
            zone = TimeZone is null ? TimeZoneInfo.Utc : CostBuckets.FindZone(TimeZone);
        }
        catch (ArgumentException)
        {
            return ValidationResult.Error($"--tz '{TimeZone}' is not a known time zone (an IANA id such as Europe/Berlin)");
        }

        if (From is not null && !SavingsReportCommand.TryParseTime(From, zone, out _))
        {
            return ValidationResult.Error($"--from '{From}' is not a date or date-time (2026-11-01, 2026-11-01T09:00, 2026-11-01T09:00:00Z)");
        }

        if (To is not null && !SavingsReportCommand.TryParseTime(To, zone, out _))
        {
            return ValidationResult.Error($"--to '{To}' is not a date or date-time (2026-12-01, 2026-12-01T09:00, 2026-12-01T09:00:00Z)");
        }

        if (Box is { } box && string.IsNullOrWhiteSpace(box))
        {
            return ValidationResult.Error("--box needs a box name");
        }

        return Owner is { } owner && string.IsNullOrWhiteSpace(owner) ? ValidationResult.Error("--owner needs an owner") : ValidationResult.Success();
    }
}

/// <summary>
/// <c>spotdevbox savings</c>: what the boxes cost and saved over a period, from the ledger (docs/savings.md, "The
/// report"): per day, week, month, box or owner, with totals, the unknown prices, and the sessions still running.
/// Exit 0 when written (an incomplete figure is marked, not an error), 2 for bad arguments or no ledger.
/// </summary>
[Description("What the boxes cost and saved: paid vs the same hours on-demand vs 24/7 on-demand, per day, week, month, box or owner, as a table, CSV, JSON or an HTML page.")]
internal sealed class SavingsReportCommand(
    IServiceProvider services,
    IOnDemandPrices onDemandPrices,
    IStoragePrices storagePrices,
    TimeProvider time,
    LoggingLevelSwitch consoleLevel) : AsyncCommand<SavingsReportSettings>
{
    private static readonly string[] LocalFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss",
    ];

    private static readonly string[] OffsetFormats =
    [
        "yyyy-MM-dd'T'HH:mm'Z'", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mmzzz", "yyyy-MM-dd'T'HH:mm:sszzz",
    ];

    public override async Task<int> ExecuteAsync(CommandContext context, SavingsReportSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Verbose)
        {
            consoleLevel.MinimumLevel = LogEventLevel.Information;
        }

        var zone = settings.TimeZone is null ? TimeZoneInfo.Utc : CostBuckets.FindZone(settings.TimeZone);
        var now = time.GetUtcNow();
        now = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        var (from, to) = Period(settings, zone, now);

        // Resolved here, not in the constructor: 'savings --help' must not need a valid controller configuration.
        var options = services.GetRequiredService<IOptions<ControllerOptions>>().Value;
        var ledger = services.GetRequiredService<ILedgerStore>();
        var store = services.GetRequiredService<IControllerStore>();
        if (ledger is ControllerStore { MayExist: false } missing)
        {
            throw new ArgumentException($"no ledger at {missing.Database.Describe}: the controller writes it there (set Controller:Database, or SPOTDEVBOX_CONFIG to the controller's configuration)");
        }

        await store.InitializeAsync(cancellationToken);
        var entries = await ledger.QueryAsync(from, to, settings.Box, settings.Owner, cancellationToken);
        var open = (await store.OpenSessionsAsync(cancellationToken))
            .Where(s => Matches(settings, s.Box, OwnerOf(s, options)))
            .ToList();
        var (boxes, notCounted) = await BoxesAsync(settings, options, entries, open, to, cancellationToken);
        if (settings.Box is { } onlyBox && entries.Count == 0 && boxes.Count == 0 && open.Count == 0 && notCounted.Count == 0)
        {
            throw new ArgumentException($"no box {onlyBox} in Controller:Boxes, and none in the ledger or running in the period");
        }

        var report = SavingsReport.Build(from, to, zone, Grouping(settings.By), entries.Select(e => e.ToCost()), boxes, open, now);
        var reportContext = new ReportContext(settings.Box, settings.Owner, now, notCounted);
        var toTerminal = settings.Output is null && settings.Format == "table";
        if (!toTerminal)
        {
            // The table lists them itself; a file or a pipe gets them on stderr so a person still sees them.
            foreach (var unknown in ReportOutput.Unknowns(report))
            {
                Terminal.Warn("incomplete: " + ReportOutput.UnknownLine(unknown));
            }
        }

        await WriteAsync(settings, report, reportContext, cancellationToken);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// A date or date-time in <paramref name="zone"/> (2026-11-01 is its local midnight; a local time the clock skips
    /// moves past the gap, a repeated one is taken in standard time), or with Z or an offset as given.
    /// </summary>
    internal static bool TryParseTime(string text, TimeZoneInfo zone, out DateTimeOffset time)
    {
        text = text.Trim();
        // The 'Z' of these formats is a literal, not an offset: without AssumeUniversal it would be read in the machine's zone.
        if (DateTimeOffset.TryParseExact(text, OffsetFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time))
        {
            return true;
        }

        if (!DateTime.TryParseExact(text, LocalFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return false;
        }

        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(1);
        }

        time = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone), TimeSpan.Zero);
        return true;
    }

    /// <summary>[from, to): by default from the start of the current month in the zone; never past now (no invented future).</summary>
    internal static (DateTimeOffset From, DateTimeOffset To) Period(SavingsReportSettings settings, TimeZoneInfo zone, DateTimeOffset now)
    {
        var to = settings.To is { } toText && TryParseTime(toText, zone, out var parsedTo) && parsedTo < now ? parsedTo : now;
        DateTimeOffset from;
        if (settings.From is { } fromText && TryParseTime(fromText, zone, out var parsedFrom))
        {
            from = parsedFrom;
        }
        else
        {
            var local = TimeZoneInfo.ConvertTime(now, zone);
            _ = TryParseTime(local.ToString("yyyy-MM-01", CultureInfo.InvariantCulture), zone, out from);
        }

        if (from >= to)
        {
            throw new ArgumentException(to == now && settings.From is not null
                ? $"--from {ReportOutput.Local(from, zone)} ({zone.Id}) is not in the past"
                : $"--from {ReportOutput.Local(from, zone)} is not before --to {ReportOutput.Local(to, zone)} ({zone.Id})");
        }

        return (from, to);
    }

    private static ReportGrouping Grouping(string by) => by switch
    {
        "week" => ReportGrouping.Week,
        "month" => ReportGrouping.Month,
        "box" => ReportGrouping.Box,
        "owner" => ReportGrouping.Owner,
        _ => ReportGrouping.Day,
    };

    private static string OwnerOf(SessionRow session, ControllerOptions options) =>
        !string.IsNullOrWhiteSpace(session.Owner) ? session.Owner : options.Boxes.TryGetValue(session.Box, out var box) ? box.Owner : "";

    private static bool Matches(SavingsReportSettings settings, string box, string owner) =>
        (settings.Box is null || string.Equals(settings.Box, box, StringComparison.Ordinal))
        && (settings.Owner is null || string.Equals(settings.Owner, owner, StringComparison.Ordinal));

    /// <summary>
    /// The boxes whose 24/7 baseline counts: every configured box of the filters, and every box with a ledger entry or
    /// a running session in the period. A configured box is priced from the price book (its first-choice type, root
    /// volume, region); a box no longer configured from its latest ledger entry (the type, volume and prices it
    /// last ran with). The repository size is the latest known one in the ledger up to the period's end. A configured
    /// box with no session at all up to the period's end did not run as a SpotDevBox box yet and is not counted.
    /// </summary>
    private async Task<(List<ReportBox> Boxes, List<string> NotCounted)> BoxesAsync(
        SavingsReportSettings settings,
        ControllerOptions options,
        IReadOnlyList<LedgerEntry> entries,
        List<SessionRow> open,
        DateTimeOffset to,
        CancellationToken cancellationToken)
    {
        var ledger = services.GetRequiredService<ILedgerStore>();
        var names = options.Boxes.Where(b => Matches(settings, b.Key, b.Value.Owner)).Select(b => b.Key)
            .Concat(entries.Select(e => e.Box))
            .Concat(open.Where(s => s.Start < to).Select(s => s.Box))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        var boxes = new List<ReportBox>();
        var notCounted = new List<string>();
        foreach (var name in names)
        {
            var history = await ledger.QueryAsync(DateTimeOffset.MinValue, to, name, null, cancellationToken);
            var latest = history.MaxBy(e => e.End);
            var bytes = history.Where(e => e.RepositoryBytes is not null).MaxBy(e => e.End)?.RepositoryBytes;
            if (options.Boxes.TryGetValue(name, out var configured))
            {
                if (latest is null && !open.Any(s => s.Box == name && s.Start < to))
                {
                    notCounted.Add($"{name}: no session recorded before {ReportOutput.Iso(to)}");
                    continue;
                }

                boxes.Add(new ReportBox(Baseline(name, configured, bytes), configured.Owner));
            }
            else if (latest is not null)
            {
                boxes.Add(new ReportBox(
                    BoxBaselines.FromLatestEntry(latest, bytes),
                    latest.Owner));
            }
            else
            {
                notCounted.Add($"{name}: not in Controller:Boxes and no ledger entry yet (its running session is listed)");
            }
        }

        return (boxes, notCounted);
    }

    private BoxBaseline Baseline(string name, BoxOptions box, long? repositoryBytes) => BoxBaselines.For(name, box, onDemandPrices, storagePrices, repositoryBytes);

    private static async Task WriteAsync(SavingsReportSettings settings, SavingsReport report, ReportContext context, CancellationToken cancellationToken)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        switch (settings.Format)
        {
            case "csv":
                ReportOutput.WriteCsv(report, text);
                break;
            case "json":
                ReportOutput.WriteJson(report, context, text);
                break;
            case "html":
                ReportHtml.Write(report, context, text);
                break;
            default:
                ReportOutput.WriteTable(report, context, text);
                break;
        }

        if (settings.Output is not { } path)
        {
            // Box names and instance facts come from the ledger in the bucket.
            Console.Out.Write(Terminal.Safe(text.ToString(), keepLineBreaks: true));
            return;
        }

        // A temporary file renamed over the target: a reader (a web server, a mail job) never sees half a report.
        var full = Path.GetFullPath(path);
        await Core.FileSystem.AtomicFile.WriteAsync(full, new UTF8Encoding(false).GetBytes(text.ToString()), Core.FileSystem.AtomicFile.WorldReadable, cancellationToken);

        Console.Error.WriteLine($"wrote {full}");
    }
}
