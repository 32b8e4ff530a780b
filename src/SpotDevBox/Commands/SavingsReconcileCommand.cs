using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Serilog.Core;
using Serilog.Events;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Controller;
using SpotDevBox.Core.Savings;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

internal sealed class SavingsReconcileSettings : CommandSettings
{
    [CommandOption("--feed <LOCATION>")]
    [Description("Where the account's Spot Instance data feed is delivered: s3://bucket/prefix (or a directory holding downloaded feed files).")]
    public string? Feed { get; set; }

    [CommandOption("--from <TIME>")]
    [Description("Start, UTC: 2026-11-01 or 2026-11-01T09:00 (rounded down to the hour). Default: 7 days before --to.")]
    public string? From { get; set; }

    [CommandOption("--to <TIME>")]
    [Description("End (exclusive), UTC, rounded up to the hour: 2026-12-01 means up to midnight. Default: the start of the current hour.")]
    public string? To { get; set; }

    [CommandOption("--box <BOX>")]
    [Description("Only this box's instances.")]
    public string? Box { get; set; }

    [CommandOption("--format <FORMAT>")]
    [Description("table (default), csv or json; the columns are listed in docs/savings.md.")]
    public string? FormatOption { get; set; }

    [CommandOption("--json")]
    [Description("The same as --format json.")]
    public bool Json { get; set; }

    /// <summary>--format, or json with --json; table when neither is given.</summary>
    public string Format => Json ? "json" : FormatOption ?? "table";

    [CommandOption("--tolerance <USD>")]
    [Description("Largest difference per instance-hour still counted as matching, in USD. Default: 0.0001.")]
    public string Tolerance { get; set; } = FeedReconciliation.DefaultToleranceUsd.ToString(CultureInfo.InvariantCulture);

    [CommandOption("--endpoint-url <URL>")]
    [Description("S3-compatible endpoint (else Storage:EndpointUrl, $AWS_ENDPOINT_URL_S3, AWS).")]
    public string? EndpointUrl { get; set; }

    [CommandOption("--region <REGION>")]
    [Description("The feed bucket's region (else Storage:Region, the SDK's chain).")]
    public string? Region { get; set; }

    [CommandOption("-v|--verbose")]
    [Description("Show informational log lines on the console, after a line saying where the log file is.")]
    public bool Verbose { get; set; }

    public override ValidationResult Validate()
    {
        if (Json && FormatOption is not null && FormatOption != "json")
        {
            return ValidationResult.Error($"--json and --format {FormatOption} disagree: give one of them");
        }

        if (string.IsNullOrWhiteSpace(Feed))
        {
            return ValidationResult.Error("--feed is required: the Spot data feed's location, s3://bucket/prefix");
        }

        try
        {
            _ = RepositoryLocation.Parse(Feed);
        }
        catch (FormatException e)
        {
            return ValidationResult.Error("--feed: " + e.Message);
        }

        if (Format is not ("table" or "csv" or "json"))
        {
            return ValidationResult.Error($"--format '{Format}' is not one of table, csv, json");
        }

        if (!decimal.TryParse(Tolerance, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _))
        {
            return ValidationResult.Error($"--tolerance '{Tolerance}' is not an amount in USD (e.g. 0.0001)");
        }

        if (From is not null && !SavingsReconcileCommand.TryParseTime(From, out _))
        {
            return ValidationResult.Error($"--from '{From}' is not a UTC date or date-time (2026-11-01, 2026-11-01T09:00, 2026-11-01T09:00:00Z)");
        }

        if (To is not null && !SavingsReconcileCommand.TryParseTime(To, out _))
        {
            return ValidationResult.Error($"--to '{To}' is not a UTC date or date-time (2026-12-01, 2026-12-01T09:00, 2026-12-01T09:00:00Z)");
        }

        return ValidationResult.Success();
    }
}

/// <summary>
/// <c>spotdevbox savings reconcile --feed s3://bucket/prefix</c>: the ledger's spot cost beside the Spot data
/// feed's charge, per instance and UTC hour (docs/savings.md). Exit 0 when every row matches within the
/// tolerance, 1 when one does not, 2 for bad input (dates, the feed location, a malformed feed file).
/// </summary>
[Description("Compare the ledger's spot cost with the account's Spot Instance data feed, per instance and hour (exit 1 when a row differs).")]
internal sealed partial class SavingsReconcileCommand(
    IConfiguration configuration,
    RepositoryOpener opener,
    TimeProvider time,
    ILoggerFactory loggers,
    LoggingLevelSwitch consoleLevel) : AsyncCommand<SavingsReconcileSettings>
{
    private const int ReadConcurrency = 4;
    private const int ExceedingListedOnStderr = 20;
    private static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(7);

    private static readonly string[] TimeFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm'Z'", "yyyy-MM-dd'T'HH:mm:ss'Z'",
        "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mmzzz", "yyyy-MM-dd'T'HH:mm:sszzz",
    ];

    public override async Task<int> ExecuteAsync(CommandContext context, SavingsReconcileSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Verbose)
        {
            consoleLevel.MinimumLevel = LogEventLevel.Information;
        }

        var logger = loggers.CreateLogger<SavingsReconcileCommand>();
        var tolerance = decimal.Parse(settings.Tolerance, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        var (from, to) = Window(settings, time.GetUtcNow());

        // The ledger first: a wrong database is found before any request to S3.
        var ledger = await ReadLedgerAsync(from, to, cancellationToken);

        var store = opener.CreateStore(new RepositorySettings { Repository = settings.Feed, EndpointUrl = settings.EndpointUrl, Region = settings.Region });
        var files = new List<(SpotFeedFile File, long Size)>();
        var others = 0;
        try
        {
            await foreach (var stored in store.ListAsync("", cancellationToken))
            {
                if (SpotFeedFile.TryParse(stored.Key, out var file))
                {
                    files.Add((file, stored.Size));
                }
                else
                {
                    others++;
                }
            }
        }
        catch (StorageException e)
        {
            Console.Error.WriteLine($"spotdevbox: cannot list the Spot data feed at {store.Location}: {e.Message}".ReplaceLineEndings(" "));
            return ExitCodes.InvalidInput;
        }

        if (files.Count == 0)
        {
            Console.Error.WriteLine(
                $"spotdevbox: no Spot data feed files at {store.Location} ({Terminal.Count(others, "other object")}); feed files are named like 123456789012.2026-11-27-09.001.8a1b2c3d.gz");
            return ExitCodes.InvalidInput;
        }

        var chosen = files.Where(f => f.File.Hour >= from && f.File.Hour < to).OrderBy(f => f.File.Hour).ThenBy(f => f.File.Key, StringComparer.Ordinal).ToList();
        if (chosen.Count == 0)
        {
            Terminal.Warn($"no feed file at {store.Location} is for an hour in [{Hour(from)}, {Hour(to)}) UTC: every ledger hour shows as ledger-only");
        }

        var records = await ReadFeedAsync(store, chosen, logger, cancellationToken);
        var report = FeedReconciliation.Reconcile(ledger, records, from, to, settings.Box, tolerance);
        switch (settings.Format)
        {
            case "csv":
                WriteCsv(report, Console.Out);
                break;
            case "json":
                WriteJson(report, from, to, store.Location, chosen.Count, Console.Out);
                break;
            default:
                WriteTable(report, from, to, store.Location, chosen.Count, Console.Out);
                break;
        }

        if (report.AllMatched)
        {
            return ExitCodes.Ok;
        }

        // For scripts: which instance-hours, on stderr, whatever the format on stdout.
        var exceeding = report.Rows.Where(r => r.Exceeds).ToList();
        Console.Error.WriteLine($"spotdevbox: {exceeding.Count} of {report.Rows.Count} instance-hours differ by more than ${Money(tolerance)} (ledger minus feed)");
        foreach (var row in exceeding.Take(ExceedingListedOnStderr))
        {
            Console.Error.WriteLine(
                $"spotdevbox: {row.InstanceId} ({row.Box ?? "?"}) {Hour(row.Hour)} UTC: ledger {Amount(row.LedgerUsd)}, feed {Amount(row.FeedUsd)}, difference {Amount(row.DifferenceUsd)} ({Status(row.Status)})");
        }

        if (exceeding.Count > ExceedingListedOnStderr)
        {
            Console.Error.WriteLine($"spotdevbox: and {exceeding.Count - ExceedingListedOnStderr} more");
        }

        return ExitCodes.Failure;
    }

    /// <summary>2026-11-27, 2026-11-27T09:00, 2026-11-27T09:00:00Z (an explicit offset is converted to UTC).</summary>
    internal static bool TryParseTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(text.Trim(), TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    /// <summary>[from, to) in whole UTC hours: from rounded down, to rounded up; by default the 7 days before the current hour.</summary>
    internal static (DateTimeOffset From, DateTimeOffset To) Window(SavingsReconcileSettings settings, DateTimeOffset now)
    {
        DateTimeOffset to;
        if (settings.To is { } toText && TryParseTime(toText, out var parsedTo))
        {
            to = SpotFeed.HourOf(parsedTo);
            if (to < parsedTo)
            {
                to = to.AddHours(1);
            }
        }
        else
        {
            to = SpotFeed.HourOf(now);
        }

        var from = settings.From is { } fromText && TryParseTime(fromText, out var parsedFrom) ? SpotFeed.HourOf(parsedFrom) : to - DefaultWindow;
        if (from >= to)
        {
            throw new ArgumentException($"--from {Hour(from)} is not before --to {Hour(to)} (UTC, whole hours)");
        }

        return (from, to);
    }

    private async Task<IReadOnlyList<LedgerEntry>> ReadLedgerAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var options = ControllerConfiguration.ReadValidated(configuration);
        // As the controller finds it (ControllerRegistration): Controller:Database, else next to the configuration.
        using var store = new ControllerStore(ControllerDatabase.Resolve(options.Database), loggers.CreateLogger<ControllerStore>());
        if (!store.MayExist)
        {
            throw new ArgumentException($"no ledger at {store.Database.Describe}: the controller writes it there (set Controller:Database, or SPOTDEVBOX_CONFIG to the controller's configuration)");
        }

        await store.InitializeAsync(cancellationToken);
        // Every box: a feed line of another box's instance must not look like an instance the ledger does not know.
        return await store.QueryAsync(from, to, box: null, owner: null, cancellationToken);
    }

    private static async Task<IReadOnlyList<SpotFeedRecord>> ReadFeedAsync(IObjectStore store, List<(SpotFeedFile File, long Size)> files, ILogger logger, CancellationToken cancellationToken)
    {
        var perFile = new IReadOnlyList<SpotFeedRecord>[files.Count];
        var total = files.Sum(f => f.Size);
        long done = 0;
        var read = 0;
        var work = Parallel.ForEachAsync(
            Enumerable.Range(0, files.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ReadConcurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var (file, size) = files[i];
                var bytes = await store.GetAsync(file.Key, ct);
                var name = store.Location.TrimEnd('/') + "/" + file.Key;
                var lines = new List<SpotFeedRecord>();
                using (var stream = new MemoryStream(bytes, writable: false))
                {
                    await foreach (var record in SpotFeed.ReadAsync(stream, name, ct))
                    {
                        lines.Add(record);
                    }
                }

                perFile[i] = lines;
                Interlocked.Add(ref done, size);
                Interlocked.Increment(ref read);
            });
        await Terminal.WithProgressAsync(
            "Reading the Spot data feed",
            () => new ProgressSample(Interlocked.Read(ref done), total, TotalKnown: true, Volatile.Read(ref read), files.Count, "feed file"),
            WhenDone(work),
            logger);
        LogFeedRead(logger, files.Count, total, store.Location);
        return [.. perFile.SelectMany(f => f)];

        static async Task<bool> WhenDone(Task task)
        {
            await task;
            return true;
        }
    }

    internal static void WriteTable(ReconciliationReport report, DateTimeOffset from, DateTimeOffset to, string feed, int files, TextWriter output)
    {
        output.WriteLine($"Spot data feed {feed}: {Terminal.Count(files, "file")} for [{Hour(from)}, {Hour(to)}) UTC; tolerance ${Money(report.ToleranceUsd)} per instance-hour");
        string[] header = ["BOX", "INSTANCE", "HOUR (UTC)", "LEDGER USD", "FEED USD", "DIFF USD", "STATUS"];
        var cells = report.Rows.Select(r => new[]
        {
            r.Box ?? "-", r.InstanceId, Hour(r.Hour), Amount(r.LedgerUsd), Amount(r.FeedUsd), Amount(r.DifferenceUsd),
            Status(r.Status) + (r.Exceeds && r.Status != ReconciliationStatus.Differs ? " !" : ""),
        }).ToList();
        var widths = header.Select((h, i) => cells.Select(c => c[i].Length).Append(h.Length).Max()).ToArray();
        var rightAligned = new[] { false, false, false, true, true, true, false };
        foreach (var line in cells.Prepend(header))
        {
            var text = new StringBuilder();
            for (var i = 0; i < line.Length; i++)
            {
                text.Append(i == 0 ? "" : "  ").Append(rightAligned[i] ? line[i].PadLeft(widths[i]) : line[i].PadRight(widths[i]));
            }

            output.WriteLine(text.ToString().TrimEnd());
        }

        var t = report.Totals;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.Rows.Count} instance-hours: {t.Match} match, {t.Differs} differ, {t.LedgerOnly} ledger-only, {t.FeedOnly} feed-only, {t.Unpriced} unpriced, {t.NotInLedger} not in the ledger (${Money(t.NotInLedgerUsd)})"));
        output.WriteLine($"total: ledger ${Money(t.LedgerUsd)}, feed ${Money(t.FeedUsd)}, difference ${Money(t.DifferenceUsd)}");
        output.WriteLine(report.AllMatched
            ? "all matched"
            : string.Create(CultureInfo.InvariantCulture, $"{t.Exceeding} instance-hours apart by more than ${Money(report.ToleranceUsd)} (marked differs or !)"));
    }

    internal static void WriteCsv(ReconciliationReport report, TextWriter output)
    {
        output.WriteLine("instance_id,box,hour,ledger_usd,feed_usd,difference_usd,status,exceeds");
        foreach (var r in report.Rows)
        {
            output.WriteLine(string.Join(',',
                Csv(r.InstanceId), Csv(r.Box ?? ""), IsoHour(r.Hour), Csv(r.LedgerUsd), Csv(r.FeedUsd), Csv(r.DifferenceUsd), Status(r.Status), r.Exceeds ? "true" : "false"));
        }

        static string Csv(object? value) => value switch
        {
            null => "",
            decimal d => d.ToString(CultureInfo.InvariantCulture),
            string s when s.AsSpan().IndexOfAny(",\"\n\r") >= 0 => "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"",
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
        };
    }

    internal static void WriteJson(ReconciliationReport report, DateTimeOffset from, DateTimeOffset to, string feed, int files, TextWriter output)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("from", IsoHour(from));
            json.WriteString("to", IsoHour(to));
            json.WriteString("feed", feed);
            json.WriteNumber("files", files);
            json.WriteNumber("tolerance_usd", report.ToleranceUsd);
            json.WriteBoolean("all_matched", report.AllMatched);
            json.WriteStartArray("rows");
            foreach (var r in report.Rows)
            {
                json.WriteStartObject();
                json.WriteString("instance_id", r.InstanceId);
                Nullable("box", r.Box);
                json.WriteString("hour", IsoHour(r.Hour));
                Money("ledger_usd", r.LedgerUsd);
                Money("feed_usd", r.FeedUsd);
                Money("difference_usd", r.DifferenceUsd);
                json.WriteString("status", Status(r.Status));
                json.WriteBoolean("exceeds", r.Exceeds);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            var t = report.Totals;
            json.WriteStartObject("totals");
            json.WriteNumber("ledger_usd", t.LedgerUsd);
            json.WriteNumber("feed_usd", t.FeedUsd);
            json.WriteNumber("difference_usd", t.DifferenceUsd);
            json.WriteNumber("not_in_ledger_usd", t.NotInLedgerUsd);
            json.WriteNumber("rows", report.Rows.Count);
            json.WriteNumber("match", t.Match);
            json.WriteNumber("differs", t.Differs);
            json.WriteNumber("ledger_only", t.LedgerOnly);
            json.WriteNumber("feed_only", t.FeedOnly);
            json.WriteNumber("not_in_ledger", t.NotInLedger);
            json.WriteNumber("unpriced", t.Unpriced);
            json.WriteNumber("exceeding", t.Exceeding);
            json.WriteEndObject();
            json.WriteEndObject();

            void Nullable(string name, string? value)
            {
                if (value is null)
                {
                    json.WriteNull(name);
                }
                else
                {
                    json.WriteString(name, value);
                }
            }

            void Money(string name, decimal? value)
            {
                if (value is { } v)
                {
                    json.WriteNumber(name, v);
                }
                else
                {
                    json.WriteNull(name);
                }
            }
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    internal static string Status(ReconciliationStatus status) => status switch
    {
        ReconciliationStatus.Match => "match",
        ReconciliationStatus.Differs => "differs",
        ReconciliationStatus.LedgerOnly => "ledger-only",
        ReconciliationStatus.FeedOnly => "feed-only",
        ReconciliationStatus.NotInLedger => "not-in-ledger",
        ReconciliationStatus.Unpriced => "unpriced",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    private static string Amount(decimal? value) => value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "-";

    private static string Money(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Hour(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static string IsoHour(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 7300, Level = LogLevel.Information, Message = "Read {Files} Spot data feed files ({Bytes} bytes) from {Feed}")]
    private static partial void LogFeedRead(ILogger logger, int files, long bytes, string feed);
}
