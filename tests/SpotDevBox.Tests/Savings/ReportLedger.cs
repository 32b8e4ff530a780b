using Microsoft.Extensions.Logging.Abstractions;
using SpotDevBox.Controller;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Savings;
using TestSupport;

namespace SpotDevBox.Tests.Savings;

/// <summary>
/// A controller configuration and SQLite ledger written by hand for the report's tests: Mon 2026-06-08 and Tue 06-09 UTC
/// (June has 720 h), prices set in the configuration (m7i.large on-demand 0.1008/h; gp3 0.08 and S3 0.023 per GB-month).
/// <list type="bullet">
/// <item>alice-dev (alice): spot 0.04/h, 36 GiB (0.004/h), 9 GiB repository (0.0002875/h). Mon 07:00-17:00: instance 0.4,
/// on-demand 1.008, EBS 0.04, S3 0.002875, paid 0.442875. Tue 08:00-12:00: 0.16, 0.4032, 0.016, 0.00115, paid 0.17715.
/// Also a May session (744 h: EBS 2.88 / 744 = 0.003871, a 1 GiB repository then, 0.023 / 744 = 0.000031; the latest size is the
/// one that counts), and one running since Tue 20:00.</item>
/// <item>carol-dev, no longer configured, so its owner is its ledger entry's, one whose name is markup (a configured Owner follows the
/// owner-name rule, a ledger written before that rule need not): on-demand, 18 GiB (0.002/h), 4.5 GiB repository (0.00014375/h).
/// Mon 09:00-13:00: 0.4032 + 0.008 + 0.000575 = 0.411775.</item>
/// <item>dave-dev: configured, never ran: not counted.</item>
/// </list>
/// Worked out (the same figures as SpotDevBox.Core.Tests' SavingsReportTests): Monday (a) 0.86155, (b) 1.46955, (c) 4.9824;
/// Tuesday 0.18635, 0.42955, 4.9824; the two days 1.0479, 1.8991, 9.9648; alice-dev 0.6298, 1.481, 5.0304;
/// carol-dev 0.4181, 0.4181, 4.9344.
/// </summary>
internal sealed class ReportLedger : IDisposable
{
    public const string CarolsOwner = "O'Brien <script>alert(1)</script> & \"QA\"";
    public const string Running = "i-0a1100000000000ff";
    public const long Gib = 1_073_741_824;

    private readonly TempDir _temp = new("spotdevbox-report-");

    private string? _postgres;

    /// <summary>The SQLite file, or the PostgreSQL connection string when made with one.</summary>
    public string Database => _postgres ?? _temp.Sub("state/controller.db");

    public string Config => _temp.Sub("spotdevbox.json");

    public string Sub(string name) => _temp.Sub(name);

    public static DateTimeOffset Utc(int month, int day, int hour) => new(2026, month, day, hour, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The ledger and configuration; with <paramref name="bob"/>, also bob-dev in ap-south-2, where no price is known; with
    /// <paramref name="postgres"/> (a connection string), the ledger in that PostgreSQL database instead of an SQLite file.
    /// </summary>
    public static async Task<ReportLedger> CreateAsync(bool bob = false, string? postgres = null)
    {
        var ledger = new ReportLedger { _postgres = postgres };
        ControllerDatabase database = postgres is null ? new ControllerDatabase.SqliteFile(ledger.Database) : new ControllerDatabase.Postgres(postgres);
        using (var store = new ControllerStore(database, NullLogger<ControllerStore>.Instance))
        {
            await store.InitializeAsync(CancellationToken.None);
            await store.RecordAsync(Alice("i-0a11000000000005a", Utc(5, 20, 9), Utc(5, 20, 10), 1 * Gib, 0.04m, 0.1008m, 0.003871m, 0.000031m), CancellationToken.None);
            await store.RecordAsync(Alice("i-0a1100000000000a8", Utc(6, 8, 7), Utc(6, 8, 17), 9 * Gib, 0.4m, 1.008m, 0.04m, 0.002875m) with { EndedBy = "schedule" }, CancellationToken.None);
            await store.RecordAsync(Alice("i-0a1100000000000a9", Utc(6, 9, 8), Utc(6, 9, 12), 9 * Gib, 0.16m, 0.4032m, 0.016m, 0.00115m), CancellationToken.None);
            await store.RecordAsync(
                Alice("i-0c3300000000000c8", Utc(6, 8, 9), Utc(6, 8, 13), (4 * Gib) + (Gib / 2), 0.4032m, 0.4032m, 0.008m, 0.000575m) with
                {
                    Box = "carol-dev",
                    Owner = CarolsOwner,
                    Lifecycle = "on-demand",
                    VolumeGiB = 18,
                    SpotSegments = [],
                },
                CancellationToken.None);
            if (bob)
            {
                await store.RecordAsync(
                    Alice("i-0b2200000000000b9", Utc(6, 9, 10), Utc(6, 9, 11), 9 * Gib, 0.05m, null, 0.004m, 0.000288m) with
                    {
                        Box = "bob-dev",
                        Owner = "bob",
                        Region = "ap-south-2",
                        AvailabilityZone = "ap-south-2a",
                        SpotSegments = [new PriceSegment(Utc(6, 9, 10), Utc(6, 9, 11), 0.05m)],
                        OnDemandPerHour = null,
                        OnDemandMissing = "no on-demand price table for region ap-south-2: run 'spotdevbox prices refresh --region ap-south-2', or set Prices:OnDemand:ap-south-2:m7i.large (USD per hour)",
                    },
                    CancellationToken.None);
            }

            await store.UpsertSessionAsync(
                new SessionRow("alice-dev", Running, "s-run", "us-east-1", "alice", "m7i.large", "us-east-1a", InstanceLifecycle.Spot, 0.04m, Utc(6, 9, 20)),
                CancellationToken.None);
        }

        var bobBox = bob ? """, "bob-dev": { "Owner": "bob", "Region": "ap-south-2", "InstanceTypes": [ "m7i.large" ], "ImageId": "ami-0123456789abcdef0", "Storage": "s3://boxes/team/bob/bob-dev", "User": "bob" }""" : "";
        await File.WriteAllTextAsync(ledger.Config, $$"""
            {
              "Logging": { "File": "off" },
              "Prices": {
                "OnDemand": { "us-east-1": { "m7i.large": 0.1008 } },
                "Storage": { "us-east-1": { "ebs_gp3_storage": 0.08, "s3_standard_first_50tb": 0.023 } }
              },
              "Controller": {
                "Database": "{{ledger.Database}}",
                "AgentBuilds": "s3://boxes/agent",
                "Boxes": {
                  "alice-dev": { "Owner": "alice", "Region": "us-east-1", "InstanceTypes": [ "m7i.large", "m7i-flex.large" ], "RootVolumeGiB": 36,
                                 "ImageId": "ami-0123456789abcdef0", "Storage": "s3://boxes/team/alice/alice-dev", "User": "alice" },
                  "dave-dev": { "Owner": "dave", "Region": "us-east-1", "InstanceTypes": [ "m7i.large" ],
                                 "ImageId": "ami-0123456789abcdef0", "Storage": "s3://boxes/team/dave/dave-dev", "User": "dave" }{{bobBox}}
                }
              }
            }
            """);
        return ledger;
    }

    public SpotDevBoxProcess Cli() => new SpotDevBoxProcess(_temp.Sub("cli")).Set("SPOTDEVBOX_CONFIG", Config);

    /// <summary><c>spotdevbox savings --from 2026-06-08 --to 2026-06-10</c> and more.</summary>
    public Task<CliResult> SavingsAsync(params string[] more) =>
        Cli().RunAsync(["savings", "--from", "2026-06-08", "--to", "2026-06-10", .. more], new Dictionary<string, string?>());

    public void Dispose() => _temp.Dispose();

    /// <summary>An alice-dev spot session as the controller would have recorded it, with its stored amounts and prices.</summary>
    private static LedgerEntry Alice(string instanceId, DateTimeOffset start, DateTimeOffset end, long repositoryBytes, decimal instance, decimal? onDemand, decimal ebs, decimal s3)
    {
        var seconds = (long)(end - start).TotalSeconds;
        return new LedgerEntry(
            "alice-dev", "alice", instanceId, "us-east-1", "m7i.large", "us-east-1a", "spot", start, end, "idle", false, seconds, seconds,
            instance, onDemand, ebs, s3, instance + ebs + s3, 36, 0.1008m, [new PriceSegment(start, end, 0.04m)], [], end)
        {
            EbsPerGbMonth = 0.08m,
            S3PerGbMonth = 0.023m,
            RepositoryBytes = repositoryBytes,
        };
    }
}
