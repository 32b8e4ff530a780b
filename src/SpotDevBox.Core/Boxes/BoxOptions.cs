using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Boxes;

/// <summary>The controller's settings: its boxes, by name, under "Controller:Boxes", and where their agent comes from.</summary>
public sealed class ControllerOptions
{
    public const string SectionName = "Controller";

    /// <summary>
    /// The prefix <c>spotdevbox agent publish</c> wrote the agent builds and their manifest to
    /// (s3://bucket/prefix): each launch pins the build for its instance's architecture from it.
    /// Required as soon as a box is configured.
    /// </summary>
    public string AgentBuilds { get; set; } = "";

    public IDictionary<string, BoxOptions> Boxes { get; } = new Dictionary<string, BoxOptions>(StringComparer.Ordinal);

    /// <summary>What all of an owner's boxes together may cost per calendar month (UTC), in USD, by owner.</summary>
    public IDictionary<string, decimal> OwnerBudgets { get; } = new Dictionary<string, decimal>(StringComparer.Ordinal);

    /// <summary>
    /// The controller's database (sessions, decisions, the ledger): an SQLite file, or a PostgreSQL connection string (a
    /// postgres:// URI, or key=value with Host=); empty: spotdevbox.db next to the configuration file. docs/controller.md, State.
    /// </summary>
    public string Database { get; set; } = "";

    /// <summary>What 'spotdevbox setup' deployed, from which 'box add' makes boxes (Controller:Fleet); null: no setup has run.</summary>
    public FleetOptions? Fleet { get; set; }

    /// <summary>How often and how patiently the controller brings boxes in line (Controller:Reconcile).</summary>
    public ReconcileOptions Reconcile { get; set; } = new();

    /// <summary>Where <c>controller run</c> exports its metrics (Controller:Metrics); both exports off by default.</summary>
    public MetricsOptions Metrics { get; set; } = new();

    /// <summary>Several controllers on one PostgreSQL database (Controller:Cluster); no effect with SQLite.</summary>
    public ClusterOptions Cluster { get; set; } = new();
}

/// <summary>Controllers clustered through Quartz's job store on PostgreSQL; see docs/controller.md, "Several controllers".</summary>
public sealed class ClusterOptions
{
    /// <summary>
    /// How often each controller checks in. One that has not for about this long plus 7.5 s is taken as dead, and
    /// another fires its triggers and takes over the jobs it was running: failover within two of these plus 7.5 s.
    /// </summary>
    public TimeSpan CheckinInterval { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The reconcile loop's timing; see docs/controller.md.</summary>
public sealed class ReconcileOptions
{
    /// <summary>A pass over every box: one DescribeInstances per region, each box's status.json and control.json. 30-60 s.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>After asking a box's agent to stop, how long to wait for it before stopping the instance through the API when no live agent answers.</summary>
    public TimeSpan StopGrace { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// An agent whose status.json is older than this is not live. The agent rewrites it on every change
    /// and at least every Agent:StatusInterval (5 min by default), so this must be longer than that.
    /// </summary>
    public TimeSpan AgentStaleAfter { get; set; } = TimeSpan.FromMinutes(12);

    /// <summary>
    /// Even a live agent that keeps postponing (its users are working, at most 2 h) gets the instance
    /// stopped through the API this long after the controller asked.
    /// </summary>
    public TimeSpan StopHardLimit { get; set; } = TimeSpan.FromHours(3);

    /// <summary>After failed launches the controller retries with a growing wait (1, 2, 4 ... min), at most this long.</summary>
    public TimeSpan MaxLaunchRetryDelay { get; set; } = TimeSpan.FromMinutes(30);
}

/// <summary>One dev box: where and how it is launched, where its work lives, and when it runs.</summary>
public sealed class BoxOptions
{
    /// <summary>Who the box belongs to (tags, the savings ledger, budgets, its Storage prefix): <see cref="BoxPrefix.OwnerRule"/>.</summary>
    public string Owner { get; set; } = "";

    public string Region { get; set; } = "";

    /// <summary>Allowed instance types in order of preference, e.g. m7i.large, m6i.large.</summary>
    public IList<string> InstanceTypes { get; } = [];

    /// <summary>Subnets to launch into (each fixes an availability zone); empty: the default VPC's zones.</summary>
    public IList<string> Subnets { get; } = [];

    /// <summary>An AMI id (ami-...), or empty with <see cref="ImageNameFilter"/>.</summary>
    public string ImageId { get; set; } = "";

    /// <summary>A name filter for the newest matching AMI, e.g. "debian-12-amd64-*", with <see cref="ImageOwner"/>.</summary>
    public string ImageNameFilter { get; set; } = "";

    /// <summary>The AMI's owner account id (or "amazon"), required with a name filter so nobody else's image matches.</summary>
    public string ImageOwner { get; set; } = "";

    public IList<string> SecurityGroups { get; } = [];

    public string KeyPair { get; set; } = "";

    /// <summary>The instance profile (name or ARN) that gives the agent its box's storage prefix.</summary>
    public string InstanceProfile { get; set; } = "";

    public int RootVolumeGiB { get; set; } = 30;

    public string RootVolumeType { get; set; } = "gp3";

    /// <summary>The most to pay per hour for a spot instance, in USD; null: up to the on-demand price.</summary>
    public decimal? MaxPrice { get; set; }

    /// <summary>Launch on-demand when no spot candidate can be had.</summary>
    public bool OnDemandFallback { get; set; }

    /// <summary>The box's storage prefix, as the agent's Agent:Box: s3://BUCKET/ROOT/&lt;Owner&gt;/&lt;box&gt; (<see cref="BoxPrefix"/>).</summary>
    public string Storage { get; set; } = "";

    /// <summary>The developer's account on the box (its home is kept).</summary>
    public string User { get; set; } = "";

    /// <summary>More absolute paths the agent keeps.</summary>
    public IList<string> Paths { get; } = [];

    /// <summary>Install Docker on the box, for throwaway containers.</summary>
    public bool Docker { get; set; }

    /// <summary>
    /// How ssh and ssh-config reach the box: <c>instance-connect</c> (the default: through the EC2 Instance Connect
    /// Endpoint of its VPC), <c>ssm</c> (through Session Manager) or <c>direct</c> (its public or Elastic IP; port 22
    /// must be open to the caller). <see cref="Ssh.SshRoutes"/>.
    /// </summary>
    public string SshVia { get; set; } = Ssh.SshRoutes.InstanceConnectName;

    /// <summary>An Elastic IP allocation (eipalloc-...) for a stable address; empty: none.</summary>
    public string ElasticIp { get; set; } = "";

    /// <summary>What the box may cost per calendar month (UTC), in USD; null: no budget. Warned at 80%, launches refused past it.</summary>
    public decimal? MonthlyBudget { get; set; }

    public ScheduleOptions Schedule { get; set; } = new();

    /// <summary>The box's agent settings (idle timeout, backup interval, retention, webhook parameter), sent in the user data.</summary>
    public BoxAgentOptions Agent { get; set; } = new();
}

/// <summary>Names the box, the setting and the value; an invalid box stops the controller at start (exit code 2).</summary>
public sealed partial class ControllerOptionsValidator : IValidateOptions<ControllerOptions>
{
    private static readonly string[] VolumeTypes = ["gp3", "gp2", "io1", "io2", "st1", "sc1"];

    public ValidateOptionsResult Validate(string? name, ControllerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var agentBuilds = $"{ControllerOptions.SectionName}:{nameof(ControllerOptions.AgentBuilds)}";
        if (string.IsNullOrWhiteSpace(options.AgentBuilds))
        {
            if (options.Boxes.Count > 0)
            {
                failures.Add($"{agentBuilds} is required to launch a box: the prefix the agent builds were published to with 'spotdevbox agent publish', s3://bucket/prefix");
            }
        }
        else if (!BucketPrefix().IsMatch(options.AgentBuilds))
        {
            failures.Add($"{agentBuilds} must be the agent builds' prefix in a bucket, s3://bucket/prefix, got '{options.AgentBuilds}'");
        }

        foreach (var (box, o) in options.Boxes)
        {
            var s = $"{ControllerOptions.SectionName}:Boxes:{box}";
            if (!BoxName().IsMatch(box))
            {
                failures.Add($"{s}: a box name is 1-32 lower-case letters, digits and '-', starting with a letter, got '{box}'");
            }

            if (string.IsNullOrWhiteSpace(o.Owner))
            {
                failures.Add($"{s}:Owner is required");
            }
            else if (!BoxPrefix.IsOwnerName(o.Owner))
            {
                failures.Add($"{s}:Owner must be {BoxPrefix.OwnerRule}, got '{o.Owner}'");
            }
            if (!Region().IsMatch(o.Region))
            {
                failures.Add($"{s}:Region must be an AWS region such as eu-central-1, got '{o.Region}'");
            }

            if (o.InstanceTypes.Count == 0)
            {
                failures.Add($"{s}:InstanceTypes needs at least one instance type, in order of preference");
            }

            Each(failures, $"{s}:InstanceTypes", o.InstanceTypes, InstanceType(), "an instance type such as m7i.large");
            if (o.InstanceTypes.Distinct(StringComparer.Ordinal).Count() != o.InstanceTypes.Count)
            {
                failures.Add($"{s}:InstanceTypes lists a type twice");
            }

            Each(failures, $"{s}:Subnets", o.Subnets, ResourceId("subnet"), "a subnet id (subnet-...)");
            Each(failures, $"{s}:SecurityGroups", o.SecurityGroups, ResourceId("sg"), "a security group id (sg-...)");
            var hasId = !string.IsNullOrWhiteSpace(o.ImageId);
            var hasFilter = !string.IsNullOrWhiteSpace(o.ImageNameFilter);
            if (hasId == hasFilter)
            {
                failures.Add($"{s}: set exactly one of ImageId (ami-...) and ImageNameFilter (with ImageOwner)");
            }
            else if (hasId && !ResourceId("ami").IsMatch(o.ImageId))
            {
                failures.Add($"{s}:ImageId must be an AMI id (ami-...), got '{o.ImageId}'");
            }
            else if (hasFilter && string.IsNullOrWhiteSpace(o.ImageOwner))
            {
                failures.Add($"{s}:ImageOwner is required with ImageNameFilter, so that no one else's image can match");
            }

            if (o.RootVolumeGiB is < 8 or > 16384)
            {
                failures.Add($"{s}:RootVolumeGiB must be between 8 and 16384, got {o.RootVolumeGiB}");
            }

            if (!VolumeTypes.Contains(o.RootVolumeType, StringComparer.Ordinal))
            {
                failures.Add($"{s}:RootVolumeType must be one of {string.Join(", ", VolumeTypes)}, got '{o.RootVolumeType}'");
            }

            if (o.MaxPrice is { } price && (price <= 0 || price > 1000))
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{s}:MaxPrice must be more than 0 and at most 1000 (USD per hour), got {price}"));
            }

            if (BoxPrefix.TryParse(o.Storage) is not { } prefix || prefix.Owner != o.Owner || prefix.Box != box)
            {
                var owner = BoxPrefix.IsOwnerName(o.Owner) ? o.Owner : "<Owner>";
                failures.Add(
                    $"{s}:Storage must be {BoxPrefix.Shape}, the box's Owner and name last (here s3://BUCKET/ROOT/{owner}/{box}, ROOT one or more segments such as boxes), "
                    + $"got '{o.Storage}'; 'spotdevbox storage migrate FROM TO' moves an existing prefix there");
            }

            if (string.IsNullOrWhiteSpace(o.User) && o.Paths.Count == 0)
            {
                failures.Add($"{s}: set User (whose home the agent keeps) or Paths");
            }

            foreach (var p in o.Paths.Where(p => !Path.IsPathFullyQualified(p)))
            {
                failures.Add($"{s}:Paths must hold absolute paths, got '{p}'");
            }

            if (Ssh.SshRoutes.TryParse(o.SshVia) is null)
            {
                // The value is not repeated: a message never prints a configuration value.
                failures.Add($"{s}:SshVia must be one of {Ssh.SshRoutes.Names}");
            }

            if (!string.IsNullOrWhiteSpace(o.ElasticIp) && !ResourceId("eipalloc").IsMatch(o.ElasticIp))
            {
                failures.Add($"{s}:ElasticIp must be an allocation id (eipalloc-...), got '{o.ElasticIp}'");
            }

            if (o.MonthlyBudget is { } budget && (budget <= 0 || budget > 1_000_000))
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{s}:MonthlyBudget must be more than 0 and at most 1000000 (USD per month), got {budget}"));
            }

            failures.AddRange(ScheduleOptionsValidator.ValidateSection($"{s}:Schedule", o.Schedule));
            failures.AddRange(o.Agent.Validate($"{s}:Agent", box));
        }

        failures.AddRange(Shared(options));
        if (options.Fleet is { } fleet)
        {
            failures.AddRange(fleet.Validate($"{ControllerOptions.SectionName}:{nameof(ControllerOptions.Fleet)}"));
        }

        foreach (var (owner, budget) in options.OwnerBudgets.Where(b => b.Value <= 0 || b.Value > 1_000_000))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{ControllerOptions.SectionName}:OwnerBudgets:{owner} must be more than 0 and at most 1000000 (USD per month), got {budget}"));
        }

        failures.AddRange(options.Metrics.Validate($"{ControllerOptions.SectionName}:{nameof(ControllerOptions.Metrics)}"));
        var r = options.Reconcile;
        var rs = $"{ControllerOptions.SectionName}:Reconcile";
        Between(failures, $"{rs}:Interval", r.Interval, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60));
        Between(failures, $"{rs}:StopGrace", r.StopGrace, TimeSpan.FromMinutes(1), TimeSpan.FromHours(2));
        Between(failures, $"{rs}:AgentStaleAfter", r.AgentStaleAfter, TimeSpan.FromMinutes(6), TimeSpan.FromHours(1));
        Between(failures, $"{rs}:StopHardLimit", r.StopHardLimit, TimeSpan.FromHours(2) + TimeSpan.FromMinutes(10), TimeSpan.FromDays(1));
        Between(failures, $"{rs}:MaxLaunchRetryDelay", r.MaxLaunchRetryDelay, TimeSpan.FromMinutes(1), TimeSpan.FromHours(6));
        // At most 10 s: a failover takes up to two intervals plus Quartz's 7.5 s, and the promise is 30 s or less.
        Between(failures, $"{ControllerOptions.SectionName}:Cluster:CheckinInterval", options.Cluster.CheckinInterval, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// One role per box: two boxes with one instance profile could each reach the other's prefix, and two boxes whose
    /// prefixes overlap would read and prune each other's objects.
    /// </summary>
    private static IEnumerable<string> Shared(ControllerOptions options)
    {
        var s = $"{ControllerOptions.SectionName}:Boxes";
        var boxes = options.Boxes.OrderBy(b => b.Key, StringComparer.Ordinal).ToList();

        // One message per shared profile, however many boxes share it (a fleet of hundreds must not get one line per pair).
        foreach (var sharing in boxes
            .Where(b => ProfileName(b.Value.InstanceProfile) is not null)
            .GroupBy(b => ProfileName(b.Value.InstanceProfile)!, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.Count() > 1)
            .OrderBy(g => g.First().Key, StringComparer.Ordinal))
        {
            var names = sharing.Select(b => b.Key).ToList();
            var (a, b) = (names[0], names[1]);
            var who = names.Count == 2
                ? $"{s}:{a}:InstanceProfile and {s}:{b}:InstanceProfile"
                : $"{s}:{a}:InstanceProfile and {names.Count - 1} other boxes' ({string.Join(", ", names.Skip(1).Take(5))}{(names.Count > 6 ? ", …" : "")})";
            yield return $"{who} name the same instance profile: give each box its own (e.g. spotdevbox-box-{a} and spotdevbox-box-{b}), so that no box's role reaches another's storage";
        }

        const int MaxOverlaps = 10;
        var prefixes = boxes.Select(b => (b.Key, Prefix: BoxPrefix.TryParse(b.Value.Storage))).Where(b => b.Prefix is not null).ToList();
        var overlaps = 0;
        for (var i = 0; i < prefixes.Count; i++)
        {
            for (var j = i + 1; j < prefixes.Count; j++)
            {
                if (!prefixes[i].Prefix!.Overlaps(prefixes[j].Prefix!))
                {
                    continue;
                }

                if (++overlaps <= MaxOverlaps)
                {
                    yield return $"{s}:{prefixes[i].Key}:Storage and {s}:{prefixes[j].Key}:Storage overlap (one prefix is the other or lies inside it): give each box a prefix of its own";
                }
            }
        }

        if (overlaps > MaxOverlaps)
        {
            yield return $"{overlaps - MaxOverlaps} more pairs of {s}:*:Storage overlap: give each box a prefix of its own";
        }
    }

    /// <summary>The instance profile's name (IAM compares names without case); an ARN's is its last segment.</summary>
    private static string? ProfileName(string value)
    {
        var v = value.Trim();
        if (v.Length == 0)
        {
            return null;
        }

        return v.StartsWith("arn:", StringComparison.Ordinal) ? v[(v.LastIndexOf('/') + 1)..] : v;
    }

    private static void Between(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{key} must be between {min:c} and {max:c}, got {value:c}");
        }
    }

    private static void Each(List<string> failures, string key, IList<string> values, Regex pattern, string what)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (!pattern.IsMatch(values[i]))
            {
                failures.Add($"{key}:{i} must be {what}, got '{values[i]}'");
            }
        }
    }

    /// <summary>Whether <paramref name="box"/> is a box name: 1-32 lower-case letters, digits and '-', starting with a letter.</summary>
    public static bool IsBoxName(string? box) => box is not null && BoxName().IsMatch(box);

    /// <summary>The rule box names follow, for messages.</summary>
    public const string BoxNameRule = "1-32 lower-case letters, digits and '-', starting with a letter";

    private static Regex ResourceId(string prefix) => new($"^{prefix}-[0-9a-f]{{8,17}}$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    [GeneratedRegex("^[a-z][a-z0-9-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex BoxName();

    /// <summary>s3://bucket/prefix: a bucket name S3 takes and a prefix that is not empty.</summary>
    [GeneratedRegex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^/\\s][^\\s]*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex BucketPrefix();

    [GeneratedRegex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Region();

    [GeneratedRegex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex InstanceType();
}
