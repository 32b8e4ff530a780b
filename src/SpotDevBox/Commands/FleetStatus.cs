using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Schedules;
using SpotDevBox.Hosting;

namespace SpotDevBox.Commands;

/// <summary>One box as <c>spotdevbox status</c> shows it off the box: EC2's view, the agent's, and the schedule's.</summary>
internal sealed record FleetRow
{
    public required string Box { get; init; }
    public required string Owner { get; init; }
    public required string Region { get; init; }
    /// <summary>EC2's state of the live instance, or "stopped" (no live instance), or "unknown" (EC2 could not be asked).</summary>
    public required string State { get; init; }
    public string? InstanceId { get; init; }
    public string? Address { get; init; }
    public string? InstanceType { get; init; }
    public string? AvailabilityZone { get; init; }
    public string? Lifecycle { get; init; }
    /// <summary>The spot price in effect now for the instance's type and zone (USD per hour); null on demand or unknown.</summary>
    public decimal? PricePerHour { get; init; }
    public DateTimeOffset? RunningSince { get; init; }
    public double? UptimeSeconds { get; init; }
    /// <summary>Uptime at the current spot price: an estimate (the ledger integrates the price history).</summary>
    public decimal? CostSoFar { get; init; }
    public string? LastSnapshotId { get; init; }
    public DateTimeOffset? LastSnapshotTime { get; init; }
    public bool LastSnapshotPartial { get; init; }
    /// <summary>
    /// The rollback floor (docs/security.md, "Rollback"): the newest snapshot the box was seen to report, as the controller
    /// keeps it in control.json, which the box cannot write. Its next launch refuses to restore anything older.
    /// </summary>
    public SnapshotFloor? SnapshotFloor { get; init; }
    public string? AgentState { get; init; }
    public string? Activity { get; init; }
    public DateTimeOffset? StatusUpdatedAt { get; init; }
    /// <summary>The version the box's agent reports in status.json, as it reports it (null: no status of the current instance).</summary>
    public string? AgentVersion { get; init; }
    /// <summary>The agent is an older version than this CLI (SemVer); false when either version is not one.</summary>
    public bool AgentOutdated { get; init; }
    public string? Schedule { get; init; }
    public DateTimeOffset? NextStart { get; init; }
    public DateTimeOffset? NextStop { get; init; }
    public string? Override { get; init; }
    public string? Problem { get; init; }
    /// <summary>
    /// Every live instance of the box, oldest first (the top-level instance fields are the first's). More than one
    /// means two launches got past each other; the controller keeps the oldest and terminates the others.
    /// </summary>
    public List<FleetInstance> Instances { get; init; } = [];
    /// <summary>
    /// Live instances carrying the box's tag whose instance profile is not the box's: someone else launched them.
    /// They are not the box (no address, not in <see cref="Instances"/>); the controller leaves them alone.
    /// </summary>
    public List<FleetForeignInstance> Foreign { get; init; } = [];
}

/// <summary>A live instance with the box's tag but not its instance profile, as <c>spotdevbox status</c> flags it.</summary>
internal sealed record FleetForeignInstance
{
    public required string InstanceId { get; init; }
    public required string State { get; init; }
    /// <summary>The instance profile ARN EC2 reports for it, or "none".</summary>
    public required string InstanceProfile { get; init; }
}

/// <summary>One live instance of a box, as <c>spotdevbox status</c> lists it.</summary>
internal sealed record FleetInstance
{
    public required string InstanceId { get; init; }
    /// <summary>EC2's state: pending, running, stopping, stopped.</summary>
    public required string State { get; init; }
    public string? SessionId { get; init; }
    public required string InstanceType { get; init; }
    public required string AvailabilityZone { get; init; }
    public required string Lifecycle { get; init; }
    public string? Address { get; init; }
    public decimal? PricePerHour { get; init; }
    public DateTimeOffset RunningSince { get; init; }
    public double UptimeSeconds { get; init; }
    public decimal? CostSoFar { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(List<FleetRow>))]
internal sealed partial class FleetJson : JsonSerializerContext;

/// <summary>Gathers the fleet's rows: one DescribeInstances per region, each box's status and control documents, and current spot prices.</summary>
internal sealed class FleetStatus(IComputeGatewayFactory gateways, IBoxDocuments documents, TimeProvider time)
{
    public async Task<List<FleetRow>> GatherAsync(IReadOnlyDictionary<string, BoxOptions> boxes, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var rows = new List<FleetRow>();
        foreach (var region in boxes.GroupBy(b => b.Value.Region, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var gateway = gateways.ForRegion(region.Key);
            IReadOnlyList<BoxInstance>? instances = null;
            string? problem = null;
            try
            {
                instances = await gateway.FindBoxInstancesAsync(null, cancellationToken);
            }
            catch (ComputeException e)
            {
                problem = $"EC2 in {region.Key} could not be asked: {e.Message}";
            }

            foreach (var (name, box) in region.OrderBy(b => b.Key, StringComparer.Ordinal))
            {
                rows.Add(await RowAsync(name, box, gateway, instances, problem, now, cancellationToken));
            }
        }

        return rows;
    }

    private async Task<FleetRow> RowAsync(string name, BoxOptions box, IComputeGateway gateway, IReadOnlyList<BoxInstance>? instances, string? problem, DateTimeOffset now, CancellationToken cancellationToken)
    {
        AgentStatus? status = null;
        ControlDocument? control = null;
        try
        {
            status = await documents.ReadStatusAsync(box.Storage, cancellationToken);
            control = await documents.ReadControlAsync(box.Storage, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or Backup.Storage.StorageException)
        {
            problem = (problem is null ? "" : problem + "; ") + $"its storage {box.Storage} could not be read: {e.Message}";
        }

        var schedule = box.Schedule.ToSchedule();
        IReadOnlyList<ScheduleOverride> overrides = control?.Override?.ToOverride() is { } o && o.Until > now ? [o] : [];
        var transitions = ScheduleEvaluator.Transitions(schedule, overrides, now, now + TimeSpan.FromDays(8)).ToList();
        var tagged = instances?.Where(i => i.Box == name && i.IsLive).OrderBy(i => i.LaunchTime).ToList() ?? [];
        var lives = tagged.Owned(box.InstanceProfile).ToList();
        var foreign = tagged.Foreign(box.InstanceProfile)
            .Select(i => new FleetForeignInstance { InstanceId = i.InstanceId, State = StateName(i.State), InstanceProfile = InstanceProfiles.Describe(i.InstanceProfileArn) })
            .ToList();
        var live = lives.FirstOrDefault();
        var listed = new List<FleetInstance>();
        foreach (var instance in lives)
        {
            var instancePrice = instance.Lifecycle == InstanceLifecycle.Spot ? await SpotPriceAsync(gateway, instance, now, cancellationToken) : null;
            var instanceUptime = now - instance.LaunchTime;
            listed.Add(new FleetInstance
            {
                InstanceId = instance.InstanceId,
                State = StateName(instance.State),
                SessionId = instance.SessionId,
                InstanceType = instance.InstanceType,
                AvailabilityZone = instance.AvailabilityZone,
                Lifecycle = instance.Lifecycle == InstanceLifecycle.Spot ? "spot" : "on-demand",
                Address = instance.PublicIpAddress ?? instance.PublicDnsName ?? instance.PrivateIpAddress,
                PricePerHour = instancePrice,
                RunningSince = instance.LaunchTime,
                UptimeSeconds = Math.Round(instanceUptime.TotalSeconds),
                CostSoFar = instancePrice is { } ip ? Math.Round(ip * (decimal)instanceUptime.TotalHours, 4) : null,
            });
        }

        var price = listed.FirstOrDefault()?.PricePerHour;
        var uptime = live is null ? (TimeSpan?)null : now - live.LaunchTime;
        var ours = status is not null && (live is null || status.InstanceId == live.InstanceId);
        return new FleetRow
        {
            Box = name,
            Owner = box.Owner,
            Region = box.Region,
            State = instances is null ? "unknown" : live is null ? "stopped" : StateName(live.State),
            InstanceId = live?.InstanceId,
            Address = live is null ? null : live.PublicIpAddress ?? live.PublicDnsName ?? live.PrivateIpAddress,
            InstanceType = live?.InstanceType,
            AvailabilityZone = live?.AvailabilityZone,
            Lifecycle = live is null ? null : live.Lifecycle == InstanceLifecycle.Spot ? "spot" : "on-demand",
            PricePerHour = price,
            RunningSince = live?.LaunchTime,
            UptimeSeconds = uptime is { } u ? Math.Round(u.TotalSeconds) : null,
            CostSoFar = price is { } p && uptime is { } up ? Math.Round(p * (decimal)up.TotalHours, 4) : null,
            LastSnapshotId = status?.LastSnapshotId,
            LastSnapshotTime = status?.LastSnapshotTime,
            LastSnapshotPartial = status?.LastSnapshotPartial ?? false,
            SnapshotFloor = control?.SnapshotFloor,
            AgentState = ours ? status!.State.ToString().ToLowerInvariant() : null,
            Activity = ours && live is not null ? status!.Activity : null,
            StatusUpdatedAt = status?.UpdatedAt,
            AgentVersion = ours ? status!.AgentVersion : null,
            AgentOutdated = ours && AgentVersions.IsOlder(status!.AgentVersion, CliVersion) == true,
            Schedule = box.Schedule.Periods.Count == 0 ? "none (up by override only)" : $"{string.Join("; ", box.Schedule.Periods)} ({schedule.Zone.Id})",
            NextStart = transitions.FirstOrDefault(t => t.Up)?.At,
            NextStop = transitions.FirstOrDefault(t => !t.Up)?.At,
            Override = overrides.Count == 1 ? $"{(overrides[0].Kind == OverrideKind.Up ? "up" : "down")} until {overrides[0].Until.UtcDateTime:yyyy-MM-dd HH:mm} UTC by {overrides[0].SetBy}" : null,
            Problem = problem,
            Instances = listed,
            Foreign = foreign,
        };
    }

    /// <summary>This CLI's version (its informational version: SemVer, then +commit).</summary>
    public static string CliVersion => Agent.AgentStatusBoard.AgentVersion;

    private static string StateName(InstanceState state) => state == InstanceState.ShuttingDown ? "shutting-down" : state.ToString().ToLowerInvariant();

    private static async Task<decimal?> SpotPriceAsync(IComputeGateway gateway, BoxInstance instance, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            return (await gateway.DescribeSpotPricesAsync(
                    new SpotPriceQuery([instance.InstanceType], SpotPriceQuery.LinuxUnix, now, null, [instance.AvailabilityZone]),
                    cancellationToken))
                .Latest.FirstOrDefault(p => p.InstanceType == instance.InstanceType && p.AvailabilityZone == instance.AvailabilityZone)?.UsdPerHour;
        }
        catch (ComputeException)
        {
            // Shown as unknown; the rest of the row stands.
            return null;
        }
    }

    /// <summary>Every line goes through <see cref="Terminal.Safe"/>: its fields come from the boxes' documents and from EC2.</summary>
    public static void Print(IReadOnlyList<FleetRow> rows, DateTimeOffset now, TextWriter output)
    {
        foreach (var r in rows)
        {
            output.WriteLine(Terminal.Safe($"{r.Box} ({r.Owner}, {r.Region}): {r.State}{(r.Activity is { } a ? $" — {a}" : "")}"));
            foreach (var i in r.Instances)
            {
                var price = i.PricePerHour is { } p ? $"{Usd(p)}/h" : i.Lifecycle == "on-demand" ? "on-demand price" : "price unknown";
                var cost = i.CostSoFar is { } c ? $", {Usd(c)} so far at that price" : "";
                var state = r.Instances.Count > 1 ? $" ({i.State})" : "";
                output.WriteLine(Terminal.Safe($"  instance   {i.InstanceId}{state} {i.InstanceType} in {i.AvailabilityZone}, {i.Lifecycle} at {price}; up {Terminal.Duration(TimeSpan.FromSeconds(i.UptimeSeconds))}{cost}"));
                output.WriteLine(Terminal.Safe($"  address    {i.Address ?? "none yet"}"));
            }

            if (r.Instances.Count > 1)
            {
                // Not a failure to read (status still exits 0): two launches got past each other, and both cost.
                output.WriteLine(Terminal.Safe($"  duplicate  {r.Instances.Count} live instances: a controller keeps the oldest, {r.Instances[0].InstanceId}, and terminates the others"));
            }

            foreach (var f in r.Foreign)
            {
                output.WriteLine(Terminal.Safe($"  foreign    {f.InstanceId} ({f.State}) carries the box's tag but its instance profile is {f.InstanceProfile}, not the box's: not the box, left alone (docs/security.md)"));
            }

            output.WriteLine(Terminal.Safe(r.LastSnapshotId is { } id
                ? $"  snapshot   {(id.Length > 8 ? id[..8] : id)}, {Terminal.Duration(now - (r.LastSnapshotTime ?? now))} ago{(r.LastSnapshotPartial ? " (partial)" : "")}"
                : "  snapshot   none yet"));
            if (r.AgentVersion is { } version)
            {
                // One line per box; an unknown or unparseable version is shown as the agent wrote it, without a verdict.
                output.WriteLine(Terminal.Safe(r.AgentOutdated
                    ? $"  agent      {version} ! older than this CLI ({CliVersion.Split('+')[0]}): publish this version with 'spotdevbox agent publish'; each new instance of the box runs the published build"
                    : $"  agent      {version}"));
            }

            output.WriteLine(Terminal.Safe($"  schedule   {r.Schedule}"));
            output.WriteLine(Terminal.Safe($"  next       start {When(r.NextStart, now)}, stop {When(r.NextStop, now)}"));
            if (r.Override is { } o)
            {
                output.WriteLine(Terminal.Safe($"  override   {o}"));
            }

            if (r.Problem is { } problem)
            {
                output.WriteLine(Terminal.Safe($"  problem    {problem}"));
            }
        }
    }

    public static string Json(List<FleetRow> rows) => JsonSerializer.Serialize(rows, FleetJson.Default.ListFleetRow);

    private static string When(DateTimeOffset? at, DateTimeOffset now) =>
        at is { } t ? string.Create(CultureInfo.InvariantCulture, $"{t.UtcDateTime:ddd yyyy-MM-dd HH:mm} UTC (in {Terminal.Duration(t - now)})") : "none within 8 days";

    private static string Usd(decimal value) => "$" + value.ToString("0.00##", CultureInfo.InvariantCulture);
}
