using System.Text.Json;
using System.ComponentModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Agent;
using SpotDevBox.Controller;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Launch;
using SpotDevBox.Core.Savings;
using SpotDevBox.Core.Schedules;
using SpotDevBox.Hosting;

namespace SpotDevBox.Commands;

internal sealed class UpSettings : CommandSettings
{
    [CommandArgument(0, "<BOX>")]
    [Description("The box: a name in Controller:Boxes.")]
    public string Box { get; set; } = "";

    [CommandOption("--for <DURATION>")]
    [Description("Keep it up this long whatever the schedule says (an override the controller honours): 90m, 3h, 1d. Outside the schedule the default is 2h; inside it, until the schedule's stop.")]
    public string? For { get; set; }

    [CommandOption("--over-budget")]
    [Description("Launch even when the box's or its owner's monthly budget is spent: writes the box's budget override (an operator-only document), so the controller may launch it too until the month ends. Needs an operator's right (a solo user is their own operator); refused, nothing is launched and the exit code is 1.")]
    public bool OverBudget { get; set; }

    [CommandOption("--allow-rollback")]
    [Description("For this launch only: restore the box's latest snapshot even when it is older than the newest one the box was seen to report (the agent refuses such a rollback otherwise, and logs it as a security event). For a history rolled back on purpose.")]
    public bool AllowRollback { get; set; }

    [CommandOption("--no-wait")]
    [Description("Return once EC2 accepted the launch, without waiting for the box to run and its agent to restore the work.")]
    public bool NoWait { get; set; }

    [CommandOption("--json")]
    [Description("Print the instance as JSON on stdout (box, instance_id, state, ready, instance_type, availability_zone, address, user, session_id); the progress stays on stderr.")]
    public bool Json { get; set; }

    [CommandOption("--timeout <DURATION>")]
    [Description("How long to wait for the box to be ready (default 15m).")]
    public string Timeout { get; set; } = "15m";

    public override ValidationResult Validate()
    {
        if (For is not null && !KeepaliveCommand.TryParseDuration(For, out _))
        {
            return ValidationResult.Error($"--for '{For}' is not a duration between 1 minute and 7 days (examples: 90m, 3h, 1d)");
        }

        return KeepaliveCommand.TryParseDuration(Timeout, out _)
            ? ValidationResult.Success()
            : ValidationResult.Error($"--timeout '{Timeout}' is not a duration between 1 minute and 7 days (examples: 10m, 30m)");
    }
}

/// <summary>
/// <c>spotdevbox up BOX [--for 3h]</c>: from any machine with credentials, with or without a controller.
/// Records the override in the box's control document (so a controller does not stop it), launches it on
/// the cheapest allowed capacity, and waits until its agent has restored the work.
/// </summary>
[Description("Start a box now (from any machine with credentials; a controller need not run), wait until its agent restored the work, and print how to connect.")]
internal sealed class UpCommand(IConfiguration configuration, IServiceProvider services, TimeProvider time) : AsyncCommand<UpSettings>
{
    /// <summary>Outside its schedule, without --for, a box is kept up this long.</summary>
    internal static readonly TimeSpan DefaultOutsideSchedule = TimeSpan.FromHours(2);

    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);

    public override async Task<int> ExecuteAsync(CommandContext context, UpSettings settings, CancellationToken cancellationToken)
    {
        var controller = ControllerConfiguration.ReadValidated(configuration);
        if (!controller.Boxes.TryGetValue(settings.Box, out var box))
        {
            throw new ArgumentException(UnknownBox(settings.Box, controller));
        }

        var now = time.GetUtcNow();
        var who = Environment.GetEnvironmentVariable("SUDO_USER") is { Length: > 0 } sudo ? sudo : Environment.UserName;
        var schedule = box.Schedule.ToSchedule();
        var documents = services.GetRequiredService<IBoxDocuments>();
        var control = await documents.ReadControlAsync(box.Storage, cancellationToken) ?? new ControlDocument();
        IReadOnlyList<ScheduleOverride> overrides = control.Override?.ToOverride() is { } o ? [o] : [];
        var wanted = ScheduleEvaluator.Evaluate(schedule, overrides, now);
        ScheduleOverride? up = null;
        if (settings.For is { } text && KeepaliveCommand.TryParseDuration(text, out var duration))
        {
            up = ScheduleOverride.UpFor(duration, now, who);
        }
        else if (!wanted.Up)
        {
            up = ScheduleOverride.UpFor(DefaultOutsideSchedule, now, who);
            Console.Error.WriteLine($"{settings.Box} is down by its schedule now ({wanted.Reason}): keeping it up for {Terminal.Duration(DefaultOutsideSchedule)} (--for sets how long)");
        }

        if (box.MonthlyBudget is not null || controller.OwnerBudgets.ContainsKey(box.Owner))
        {
            // The budget is read from the controller's database, which no controller may have created yet on
            // this machine: created (or migrated) here, an absent one means nothing spent, not an SQLite error.
            await services.GetRequiredService<ControllerStore>().InitializeAsync(cancellationToken);
        }

        var budget = await services.GetRequiredService<IBudgetGuard>().CheckAsync(settings.Box, controller, cancellationToken);
        foreach (var warning in budget.Warnings)
        {
            Console.Error.WriteLine(Terminal.Safe($"spotdevbox: warning: {warning}"));
        }

        if (control.BudgetOverrideUntil is not null)
        {
            Console.Error.WriteLine(Terminal.Safe($"spotdevbox: warning: the budget override in control.json is ignored: overrides are granted by an operator and live in {documents.BudgetOverrideLocation(box.Storage, box.Owner, settings.Box)} ('spotdevbox up {settings.Box} --over-budget' writes one, with the operator's right)"));
        }

        if (!budget.Allowed && !await OverBudgetAllowedAsync(settings, box, documents, budget.Refusal, who, now, cancellationToken))
        {
            return ExitCodes.Failure;
        }

        var floor = await SnapshotFloorAsync(settings.Box, control, cancellationToken);
        if (settings.AllowRollback)
        {
            Console.Error.WriteLine(Terminal.Safe($"spotdevbox: warning: --allow-rollback: {settings.Box} restores its latest snapshot even if it is older than the newest one it reported{(floor is null ? "" : $" (snapshot {floor.Id[..8]} of {floor.Time.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC)")}"));
        }

        var userData = await services.GetRequiredService<ILaunchUserData>().PrepareAsync(settings.Box, box, new RollbackGuard(floor, settings.AllowRollback), cancellationToken);
        var timeout = KeepaliveCommand.TryParseDuration(settings.Timeout, out var t) ? t : TimeSpan.FromMinutes(15);
        var (instance, failedExit) = await LaunchOnceAsync(settings.Box, box, who, userData, timeout, cancellationToken);
        if (instance is null)
        {
            return failedExit;
        }

        // The override and the stop's withdrawal are written only now that the box has a live instance.
        // Written before the launch, a launch that failed (or a crash before it) left an override behind, and
        // a controller started later launched the box on its strength. Written after, a crash between the
        // launch and this write leaves an instance without an override: outside its schedule a controller asks
        // its agent to stop it (a backed-up, graceful stop, the safe side), and inside it nothing is missing.
        // A controller pass that sees the new instance in the seconds before this write may ask it to stop;
        // this write withdraws that stop, and the controller's next pass sees the override and withdraws its
        // own (withdraw-stop). control.json is read again here so that what the controller or another person
        // wrote while EC2 was launching is kept rather than overwritten with what was read at the start.
        control = await documents.ReadControlAsync(box.Storage, cancellationToken) ?? new ControlDocument();
        // A stop asked of the box (by `down` or the controller) is withdrawn: someone wants it up.
        await documents.WriteControlAsync(
            box.Storage,
            control with
            {
                // Inside the window without --for, an override in effect (an earlier up --for) is kept.
                Override = up is null ? control.Override : OverrideDocument.Of(up),
                StopAt = null,
                StopReason = null,
                StopInstanceId = null,
                RequestedBy = null,
                // Overrides live only in the operator's document: one left here by an earlier version is dropped.
                BudgetOverrideUntil = null,
                BudgetOverrideBy = null,
                UpdatedAt = now,
            },
            cancellationToken);

        if (up is not null)
        {
            Console.Error.WriteLine($"up until {Terminal.LocalTime(up.Until, time.LocalTimeZone)} (override of {who}); then the schedule decides again");
        }

        if (settings.NoWait)
        {
            Console.Out.WriteLine(settings.Json
                ? JsonSerializer.Serialize(
                    new UpOutput(settings.Box, instance.InstanceId, instance.State.ToString().ToLowerInvariant(), false, instance.InstanceType, instance.AvailabilityZone, null, NullIfBlank(box.User), instance.SessionId),
                    CommandJson.Default.UpOutput)
                : instance.InstanceId);
            return ExitCodes.Ok;
        }

        var ready = await WaitUntilReadyAsync(settings.Box, box, instance, documents, timeout, cancellationToken);
        if (ready is null)
        {
            return ExitCodes.Failure;
        }

        var address = ready.PublicIpAddress ?? ready.PublicDnsName ?? ready.PrivateIpAddress;
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(
                new UpOutput(settings.Box, ready.InstanceId, ready.State.ToString().ToLowerInvariant(), true, ready.InstanceType, ready.AvailabilityZone, address, NullIfBlank(box.User), ready.SessionId),
                CommandJson.Default.UpOutput));
            return ExitCodes.Ok;
        }

        Console.Out.WriteLine($"{settings.Box} is ready: {ready.InstanceId} ({ready.InstanceType} in {ready.AvailabilityZone}) at {address}");
        // The address is worth dialling only when the box is reached directly; through a tunnel, the entry ssh-config writes is the way.
        Console.Out.WriteLine(Core.Ssh.SshRoutes.TryParse(box.SshVia) == Core.Ssh.SshRoute.Direct
            ? $"  connect: spotdevbox ssh {settings.Box}   (or: ssh {(string.IsNullOrWhiteSpace(box.User) ? "" : box.User + "@")}{address})"
            : $"  connect: spotdevbox ssh {settings.Box}   (or, with the entries below: ssh {settings.Box})");
        // Replaced, not appended to: ~/.ssh/config includes the file once, and each run rewrites every entry
        // (appending left two Host blocks, and ssh takes the first, the old address).
        Console.Out.WriteLine("  IDEs:    spotdevbox ssh-config > ~/.ssh/spotdevbox_config   (once, at the top of ~/.ssh/config: Include spotdevbox_config)");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The rollback floor this launch carries: the newer of the controller's database on this machine (when the file
    /// exists: a controller runs here) and the copy the controller keeps in <c>control.json</c>, which the box cannot
    /// write. Neither: null, and the box restores its latest snapshot as it finds it (docs/security.md, "Rollback").
    /// </summary>
    private async Task<SnapshotFloor?> SnapshotFloorAsync(string box, ControlDocument control, CancellationToken cancellationToken)
    {
        var store = services.GetRequiredService<ControllerStore>();
        SnapshotFloor? recorded = null;
        if (store.MayExist)
        {
            await store.InitializeAsync(cancellationToken);
            recorded = await store.GetSnapshotFloorAsync(box, cancellationToken);
        }

        return SnapshotFloor.Newest(recorded, control.SnapshotFloor);
    }

    /// <summary>
    /// The budget is spent: the launch goes ahead only under an operator's budget override (docs/controller.md,
    /// "Budgets"). One in effect is used; with <c>--over-budget</c> one is written until the month ends, before the
    /// launch, so that a person without the operator's right (the store refuses the write) launches nothing. Prints
    /// why when the launch may not go ahead.
    /// </summary>
    private static async Task<bool> OverBudgetAllowedAsync(UpSettings settings, BoxOptions box, IBoxDocuments documents, string? refusal, string who, DateTimeOffset now, CancellationToken cancellationToken)
    {
        BudgetOverride? grant;
        try
        {
            grant = await documents.ReadBudgetOverrideAsync(box.Storage, box.Owner, settings.Box, cancellationToken);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or InvalidDataException)
        {
            // Not readable by this person, or not valid: no override in effect; --over-budget writes a new one.
            grant = null;
        }

        if (grant?.AllowsAt(now) == true)
        {
            Console.Error.WriteLine(Terminal.Safe($"over budget, launched under the budget override {grant.By} granted until {grant.Until.UtcDateTime:yyyy-MM-dd HH:mm} UTC"));
            return true;
        }

        if (!settings.OverBudget)
        {
            Console.Error.WriteLine(Terminal.Safe($"spotdevbox: not launched: {refusal}"));
            return false;
        }

        var until = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
        try
        {
            await documents.WriteBudgetOverrideAsync(box.Storage, box.Owner, settings.Box, new BudgetOverride(until, who, now), cancellationToken);
        }
        catch (UnauthorizedAccessException)
        {
            Console.Error.WriteLine(Terminal.Safe(
                $"spotdevbox: not launched: {settings.Box} is over its budget, and launching it anyway needs an operator's right, which these credentials do not hold " +
                $"(the store refused writing {documents.BudgetOverrideLocation(box.Storage, box.Owner, settings.Box)}); ask an operator to run 'spotdevbox up {settings.Box} --over-budget', " +
                "or to grant you the operator policy (deploy/iam/operator-policy.json)"));
            return false;
        }

        Console.Error.WriteLine($"over budget: budget override granted by {who} until {until.UtcDateTime:yyyy-MM-dd HH:mm} UTC; the controller may launch {settings.Box} past its budget until then");
        return true;
    }

    /// <summary>
    /// Launches the box, unless another launcher (an <c>up</c> on another machine, the controller) holds its launch
    /// claim: then follows that launch to its instance instead of starting a second one (docs/controller.md,
    /// "One instance per box"). Returns the box's live instance, or null and the exit code after printing why.
    /// </summary>
    private async Task<(BoxInstance? Instance, int Exit)> LaunchOnceAsync(string name, BoxOptions box, string who, Func<CpuArchitecture, string> userData, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var claims = services.GetRequiredService<LaunchClaims>();
        // A claim that lapses while followed (its launcher crashed, its instance ended) is claimed again, a few times.
        for (var round = 0; round < 3; round++)
        {
            var outcome = await claims.ClaimAsync(name, box, Reconciler.NewSessionId(time.GetUtcNow()), who, cancellationToken);
            if (outcome is ClaimOutcome.Following following)
            {
                var held = following.Claim;
                Console.Error.WriteLine(Terminal.Safe($"{name}: {held.ClaimedBy} launched it at {held.ClaimedAt.UtcDateTime:HH:mm:ss} UTC (session {held.SessionId}): following that launch, not starting another"));
                switch (await claims.FollowAsync(name, box, held, timeout, cancellationToken))
                {
                    case FollowOutcome.Found found:
                        Console.Error.WriteLine($"{name} already has {found.Instance.InstanceId} ({found.Instance.State.ToString().ToLowerInvariant()})");
                        return (found.Instance, ExitCodes.Ok);
                    case FollowOutcome.LaunchFailed failed:
                        Console.Error.WriteLine(Terminal.Safe($"spotdevbox: {name} not launched: the launch by {failed.Claim.ClaimedBy} failed: {failed.Claim.Failed}"));
                        return (null, ExitCodes.Failure);
                    case FollowOutcome.TimedOut timedOut:
                        Console.Error.WriteLine(Terminal.Safe($"spotdevbox: {name}: the launch by {timedOut.Claim.ClaimedBy} (session {timedOut.Claim.SessionId}) started no instance within {Terminal.Duration(timeout)}; follow it with spotdevbox status {name}"));
                        return (null, ExitCodes.Failure);
                    default:
                        continue;
                }
            }

            var won = ((ClaimOutcome.Won)outcome).Claim;
            var result = await services.GetRequiredService<BoxLauncher>().LaunchAsync(new BoxLaunch(name, box, won.SessionId, userData), cancellationToken);
            switch (result)
            {
                case LaunchResult.Launched launched:
                    await claims.RecordInstanceAsync(box, won, launched.Instance.InstanceId, cancellationToken);
                    Console.Error.WriteLine(Terminal.Safe($"launched {launched.Instance.InstanceId}: {launched.Candidate}"));
                    foreach (var passed in launched.PassedOver)
                    {
                        Console.Error.WriteLine(Terminal.Safe($"  passed over: {passed.Reason}"));
                    }

                    return (launched.Instance, ExitCodes.Ok);
                case LaunchResult.AlreadyRunning running:
                    await claims.RecordInstanceAsync(box, won, running.Instance.InstanceId, cancellationToken);
                    Console.Error.WriteLine($"{name} already has {running.Instance.InstanceId} ({running.Instance.State.ToString().ToLowerInvariant()})");
                    return (running.Instance, ExitCodes.Ok);
                case LaunchResult.Failed failed:
                    if (failed.Failure != LaunchFailure.Indeterminate)
                    {
                        // Nothing was started: those following this launch stop waiting. An indeterminate launch
                        // may have started an instance, so its claim holds until it expires.
                        await claims.ReleaseAsync(box, won, failed.Reason, cancellationToken);
                    }

                    Console.Error.WriteLine(Terminal.Safe($"spotdevbox: {failed.Reason}"));
                    foreach (var passed in failed.PassedOver)
                    {
                        Console.Error.WriteLine(Terminal.Safe($"  {passed.Reason}"));
                    }

                    return (null, failed.Failure == LaunchFailure.Rejected ? ExitCodes.InvalidInput : ExitCodes.Failure);
                default:
                    throw new InvalidOperationException($"unexpected launch result {result.GetType().Name}");
            }
        }

        Console.Error.WriteLine($"spotdevbox: {name}: its launch claim lapsed three times without an instance; try again, or see spotdevbox status {name}");
        return (null, ExitCodes.Failure);
    }

    /// <summary>Until EC2 says running and the box's agent says it restored the work (status.json of this instance, running).</summary>
    private async Task<BoxInstance?> WaitUntilReadyAsync(string name, BoxOptions box, BoxInstance launched, IBoxDocuments documents, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var gateway = services.GetRequiredService<IComputeGatewayFactory>().ForRegion(box.Region);
        var start = time.GetUtcNow();
        var current = launched;
        var last = "";
        var addressed = false;
        while (true)
        {
            var elapsed = time.GetUtcNow() - start;
            var listed = (await gateway.FindBoxInstancesAsync(name, cancellationToken)).FirstOrDefault(i => i.InstanceId == launched.InstanceId);
            current = listed is null ? current : addressed ? listed with { PublicIpAddress = current.PublicIpAddress } : listed;
            AgentStatus? status = null;
            if (current.State == InstanceState.Running)
            {
                try
                {
                    status = await documents.ReadStatusAsync(box.Storage, cancellationToken);
                }
                catch (InvalidDataException)
                {
                    // Being rewritten; the next poll reads it.
                }
            }

            var agent = status is not null && status.InstanceId == current.InstanceId ? status.State : (AgentState?)null;
            var step = current.State switch
            {
                InstanceState.Pending => "pending: EC2 is starting the instance",
                InstanceState.Running when agent is null => "running: installing the agent",
                InstanceState.Running when agent is AgentState.Starting or AgentState.Restoring => "running: the agent is restoring the work",
                InstanceState.Running when agent is AgentState.RestoreFailed => "running, but the restore failed (the agent retries; journalctl -u spotdevbox-agent on the box)",
                InstanceState.Running => "ready",
                _ => $"{current.State.ToString().ToLowerInvariant()}{(current.StateReason is { } r ? $" ({r.Code})" : "")}",
            };
            if (step != last)
            {
                Console.Error.WriteLine(Terminal.Safe($"[{Terminal.Duration(elapsed)}] {name}: {step}"));
                last = step;
            }

            if (current.State == InstanceState.Running && !string.IsNullOrWhiteSpace(box.ElasticIp) && !addressed)
            {
                try
                {
                    var address = await gateway.AssociateAddressAsync(box.ElasticIp.Trim(), current.InstanceId, cancellationToken);
                    current = current with { PublicIpAddress = address };
                    addressed = true;
                    Console.Error.WriteLine($"[{Terminal.Duration(elapsed)}] {name}: Elastic IP {box.ElasticIp} ({address}) is on {current.InstanceId}");
                }
                catch (ComputeException e) when (e.Failure is ComputeFailure.NotReady or ComputeFailure.Throttled or ComputeFailure.Unavailable)
                {
                    // Tried again at the next poll.
                }
                catch (ComputeException e)
                {
                    addressed = true;
                    Console.Error.WriteLine($"spotdevbox: warning: Elastic IP {box.ElasticIp} cannot be put on {current.InstanceId} ({e.Message}); the box keeps its own address");
                }
            }

            if (step == "ready" && (addressed || string.IsNullOrWhiteSpace(box.ElasticIp)))
            {
                return current;
            }

            if (!current.IsLive)
            {
                Console.Error.WriteLine(Terminal.Safe($"spotdevbox: {current.InstanceId} ended before it was ready ({current.StateReason?.Message ?? current.State.ToString()}); try again, or see spotdevbox status {name}"));
                return null;
            }

            if (elapsed >= timeout)
            {
                Console.Error.WriteLine(Terminal.Safe($"spotdevbox: {name} is not ready after {Terminal.Duration(timeout)} ({step}); it keeps starting: follow it with spotdevbox status {name}"));
                return null;
            }

            await Task.Delay(Poll, time, cancellationToken);
        }
    }

    private static string? NullIfBlank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    internal static string UnknownBox(string box, ControllerOptions controller)
    {
        return $"there is no box '{box}' ({BoxReference.Known(controller)})";
    }
}
