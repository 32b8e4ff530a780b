using System.Globalization;
using System.Text.Json.Nodes;

namespace SpotDevBox.Deploy;

/// <summary>A stack as CloudFormation describes it: its status, its parameters and outputs by key, and its id (ARN).</summary>
internal sealed record StackDescription(string Name, string Status, IReadOnlyDictionary<string, string> Parameters, IReadOnlyDictionary<string, string> Outputs, string Id);

/// <summary>One of a stack's events, as deploy and delete report them while they run.</summary>
internal sealed record StackEvent(DateTimeOffset Time, string LogicalId, string ResourceType, string Status, string Reason)
{
    /// <summary>"12:04:31 BoxRole AWS::IAM::Role CREATE_COMPLETE" and the reason, if any: a line of progress.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Time.ToUniversalTime():HH:mm:ss} {LogicalId} {ResourceType} {Status}{(Reason.Length > 0 ? ": " + Reason : "")}");
}

/// <summary>What a deploy did to its stack.</summary>
internal enum StackOutcome
{
    Created,
    Updated,
    Unchanged,
}

/// <summary>What <see cref="CloudFormationStacks.DeployAsync"/> did, and the stack's outputs after it.</summary>
internal sealed record StackDeployment(StackOutcome Outcome, IReadOnlyDictionary<string, string> Outputs)
{
    /// <summary>"created", "updated" or "unchanged".</summary>
    public string Said => Outcome.ToString().ToLowerInvariant();
}

/// <summary>
/// CloudFormation stacks through the AWS CLI (<see cref="IAwsCli"/>): described, deployed with 'aws cloudformation
/// deploy' (change sets, so a rerun without changes changes nothing) and deleted, each reporting the stack's events
/// while it runs.
/// </summary>
internal sealed class CloudFormationStacks(IAwsCli cli, TimeProvider time)
{
    /// <summary>How often the stack's events are read while a deploy or delete runs.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    private TimeProvider Time => time;

    /// <summary>The stack, or null when there is none of that name.</summary>
    public async Task<StackDescription?> DescribeAsync(string stack, CancellationToken cancellationToken)
    {
        var result = await cli.RunAsync(["cloudformation", "describe-stacks", "--stack-name", stack], cancellationToken);
        if (result.ExitCode != 0)
        {
            if (result.Stderr.Contains("does not exist", StringComparison.Ordinal))
            {
                return null;
            }

            throw new AwsCliException(AwsCli.ErrorLine(result), result.ExitCode);
        }

        var json = System.Text.Json.Nodes.JsonNode.Parse(result.Stdout);
        if (json?["Stacks"] is not JsonArray { Count: > 0 } stacks || stacks[0] is not JsonObject s)
        {
            return null;
        }

        var status = (string?)s["StackStatus"] ?? "";
        return status == "DELETE_COMPLETE"
            ? null
            : new StackDescription(
                (string?)s["StackName"] ?? stack,
                status,
                Pairs(s["Parameters"], "ParameterKey", "ParameterValue"),
                Pairs(s["Outputs"], "OutputKey", "OutputValue"),
                (string?)s["StackId"] ?? stack);
    }

    /// <summary>The arguments (after "aws") of the deploy <see cref="DeployAsync"/> runs.</summary>
    public static List<string> DeployArguments(string stack, string templateFile, IReadOnlyDictionary<string, string> parameters, IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(tags);
        List<string> args =
        [
            "cloudformation", "deploy", "--stack-name", stack, "--template-file", templateFile,
            "--capabilities", "CAPABILITY_NAMED_IAM", "--no-fail-on-empty-changeset",
        ];
        if (parameters.Count > 0)
        {
            args.Add("--parameter-overrides");
            args.AddRange(parameters.Select(p => $"{p.Key}={p.Value}"));
        }

        if (tags.Count > 0)
        {
            args.Add("--tags");
            args.AddRange(tags.Select(t => $"{t.Key}={t.Value}"));
        }

        return args;
    }

    /// <summary>The whole command (from "aws") <see cref="DeployAsync"/> runs, for --print (<see cref="AwsCli.Render"/>).</summary>
    public IReadOnlyList<string> DeployCommand(string stack, string templateFile, IReadOnlyDictionary<string, string> parameters, IReadOnlyDictionary<string, string> tags) =>
        cli.Command(DeployArguments(stack, templateFile, parameters, tags));

    /// <summary>
    /// Creates or updates <paramref name="stack"/> from <paramref name="templateFile"/>, reporting each new event once
    /// while it runs. A stack left in ROLLBACK_COMPLETE by a failed first create (it holds nothing, and cannot be
    /// updated) is deleted first. A failure throws <see cref="AwsCliException"/> with the first failed resource's reason.
    /// </summary>
    public async Task<StackDeployment> DeployAsync(
        string stack,
        string templateFile,
        IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, string> tags,
        IProgress<StackEvent>? progress,
        CancellationToken cancellationToken)
    {
        var before = await DescribeAsync(stack, cancellationToken);
        if (before is { Status: "ROLLBACK_COMPLETE" })
        {
            await DeleteAsync(stack, progress, cancellationToken);
            before = null;
        }

        var events = new EventWatch(this, stack);
        await events.StartAsync(cancellationToken);
        var deploy = cli.RunAsync(DeployArguments(stack, templateFile, parameters, tags), cancellationToken);
        var reported = await events.FollowAsync(deploy, progress, cancellationToken);
        var result = await deploy;
        // The CLI answers an unchanged stack with "No changes to deploy" (exit 0); CloudFormation implementations that
        // refuse the empty change set itself, as UpdateStack does, say "No updates are to be performed." (moto 5.2.2).
        var unchanged = result.Stdout.Contains("No changes to deploy", StringComparison.Ordinal)
            || (result.ExitCode != 0 && before is not null && result.Stderr.Contains("No updates are to be performed", StringComparison.Ordinal));
        if (result.ExitCode != 0 && !unchanged)
        {
            throw new AwsCliException(Failure(stack, "deployed", reported, result), result.ExitCode);
        }

        var after = await DescribeAsync(stack, cancellationToken)
            ?? throw new AwsCliException($"the stack {stack} is not there after its deploy", result.ExitCode);
        var outcome = before is null ? StackOutcome.Created : unchanged ? StackOutcome.Unchanged : StackOutcome.Updated;
        return new StackDeployment(outcome, after.Outputs);
    }

    /// <summary>The stack's resources: physical id by logical id (those that have one).</summary>
    public async Task<IReadOnlyDictionary<string, string>> ResourcesAsync(string stack, CancellationToken cancellationToken)
    {
        var json = await cli.JsonAsync(["cloudformation", "list-stack-resources", "--stack-name", stack], cancellationToken);
        return Pairs(json?["StackResourceSummaries"], "LogicalResourceId", "PhysicalResourceId")
            .Where(p => p.Key.Length > 0 && p.Value.Length > 0)
            .ToDictionary(StringComparer.Ordinal);
    }

    /// <summary>Deletes <paramref name="stack"/> and waits until it is gone, reporting its events; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string stack, IProgress<StackEvent>? progress, CancellationToken cancellationToken)
    {
        if (await DescribeAsync(stack, cancellationToken) is not { } found)
        {
            return false;
        }

        // By id: a deleted stack's events are not found by its name any more.
        var events = new EventWatch(this, found.Id);
        await events.StartAsync(cancellationToken);
        await cli.JsonAsync(["cloudformation", "delete-stack", "--stack-name", stack], cancellationToken);
        var reported = new List<StackEvent>();
        while (true)
        {
            reported.AddRange(await events.PollAsync(progress, cancellationToken));
            var now = await DescribeAsync(found.Id, cancellationToken);
            if (now is null)
            {
                reported.AddRange(await events.PollAsync(progress, cancellationToken));
                return true;
            }

            if (now.Status == "DELETE_FAILED")
            {
                reported.AddRange(await events.PollAsync(progress, cancellationToken));
                throw new AwsCliException(Failure(stack, "deleted", reported, new AwsCliResult(1, "", "the stack is DELETE_FAILED")), 1);
            }

            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }

    private static string Failure(string stack, string what, IReadOnlyList<StackEvent> reported, AwsCliResult result) =>
        reported.FirstOrDefault(e => e.Status.EndsWith("_FAILED", StringComparison.Ordinal) && e.Reason.Length > 0) is { } failed
            ? $"the stack {stack} was not {what}: {failed.LogicalId} ({failed.ResourceType}) {failed.Status}: {failed.Reason}"
            : $"the stack {stack} was not {what}: {AwsCli.ErrorLine(result)}";

    /// <summary>The stack's newest events (at most 100), oldest first; none while the stack does not exist.</summary>
    private async Task<List<(string Id, StackEvent Event)>> EventsAsync(string stack, CancellationToken cancellationToken)
    {
        var result = await cli.RunAsync(["cloudformation", "describe-stack-events", "--stack-name", stack, "--max-items", "100"], cancellationToken);
        if (result.ExitCode != 0 || System.Text.Json.Nodes.JsonNode.Parse(result.Stdout)?["StackEvents"] is not JsonArray list)
        {
            return [];
        }

        var events = new List<(string, StackEvent)>();
        foreach (var e in list.OfType<JsonObject>().Reverse())
        {
            var at = DateTimeOffset.TryParse((string?)e["Timestamp"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : time.GetUtcNow();
            var id = (string?)e["EventId"] ?? $"{e["LogicalResourceId"]}/{e["ResourceStatus"]}/{e["Timestamp"]}";
            events.Add((id, new StackEvent(at, (string?)e["LogicalResourceId"] ?? "", (string?)e["ResourceType"] ?? "", (string?)e["ResourceStatus"] ?? "", (string?)e["ResourceStatusReason"] ?? "")));
        }

        return events;
    }

    private static Dictionary<string, string> Pairs(JsonNode? list, string key, string value) =>
        (list as JsonArray ?? [])
            .OfType<JsonObject>()
            .Where(p => (string?)p[key] is not null)
            .GroupBy(p => (string)p[key]!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (string?)g.Last()[value] ?? "", StringComparer.Ordinal);

    /// <summary>Reports a stack's events once each, none that were there before it started.</summary>
    private sealed class EventWatch(CloudFormationStacks stacks, string stack)
    {
        private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            foreach (var (id, _) in await stacks.EventsAsync(stack, cancellationToken))
            {
                _seen.Add(id);
            }
        }

        public async Task<List<StackEvent>> PollAsync(IProgress<StackEvent>? progress, CancellationToken cancellationToken)
        {
            var fresh = new List<StackEvent>();
            foreach (var (id, e) in await stacks.EventsAsync(stack, cancellationToken))
            {
                if (_seen.Add(id))
                {
                    fresh.Add(e);
                    progress?.Report(e);
                }
            }

            return fresh;
        }

        /// <summary>Polls until <paramref name="running"/> ends, then once more; every event reported.</summary>
        public async Task<List<StackEvent>> FollowAsync(Task running, IProgress<StackEvent>? progress, CancellationToken cancellationToken)
        {
            var reported = new List<StackEvent>();
            while (!running.IsCompleted)
            {
                var tick = Task.Delay(PollInterval, stacks.Time, cancellationToken);
                await Task.WhenAny(running, tick);
                reported.AddRange(await PollAsync(progress, cancellationToken));
            }

            reported.AddRange(await PollAsync(progress, cancellationToken));
            return reported;
        }
    }
}

/// <summary>The CloudFormation templates that ship beside the executable (deploy/cloudformation).</summary>
internal static class CloudFormationTemplates
{
    /// <summary>The full path of template <paramref name="name"/> (fleet.yaml, box.yaml); a missing one is an installation fault.</summary>
    public static string PathOf(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "deploy", "cloudformation", name);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"the CloudFormation template {name} is not beside the executable (in deploy/cloudformation): reinstall spotdevbox", path);
    }
}
