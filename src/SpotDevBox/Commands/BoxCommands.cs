using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Controller;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Deploy;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

internal sealed class BoxAddSettings : CommandSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("The box's name (its key in Controller:Boxes, its role and instance profile): 1-32 lower-case letters, digits and '-', starting with a letter.")]
    public string Name { get; set; } = "";

    [CommandOption("--owner <OWNER>")]
    [Description("Whose box it is (tags, budgets, its storage prefix ROOT/OWNER/NAME): the person's spotdevbox:owner tag. Required.")]
    public string? Owner { get; set; }

    [CommandOption("--type <TYPE>")]
    [Description("An instance type, in order of preference; repeat for more. Default: Controller:Fleet:InstanceTypes. All of one architecture.")]
    public string[] Types { get; set; } = [];

    [CommandOption("--schedule <RULES>")]
    [Description("When the box is up, in the schedule language of docs/schedules.md: \"Mon-Fri 09:00-18:00\". Without it: only when asked (spotdevbox up).")]
    public string? Schedule { get; set; }

    [CommandOption("--tz <ZONE>")]
    [Description("The IANA time zone of --schedule's times (e.g. Europe/Berlin). Default: this computer's.")]
    public string? TimeZone { get; set; }

    [CommandOption("--user <USER>")]
    [Description("The developer's account on the box, whose home is kept. Default: the owner.")]
    public string? User { get; set; }

    [CommandOption("--ssh-via <ROUTE>")]
    [Description("How ssh reaches the box: instance-connect, ssm or direct. Default: Controller:Fleet:SshVia.")]
    public string? SshVia { get; set; }

    [CommandOption("--key-pair <NAME>")]
    [Description("An EC2 key pair for the image's default user. Default: none.")]
    public string? KeyPair { get; set; }

    [CommandOption("--budget <USD>")]
    [Description("What the box may cost per calendar month, in USD (MonthlyBudget). Default: none.")]
    public string? Budget { get; set; }

    [CommandOption("--config <FILE>")]
    [Description("The configuration file to write the box into. Default: $SPOTDEVBOX_CONFIG, else ~/.config/spotdevbox/spotdevbox.json.")]
    public string? Config { get; set; }

    [CommandOption("--print")]
    [Description("Print the AWS CLI command and the configuration it would write, and stop: nothing is deployed or written.")]
    public bool Print { get; set; }

    internal decimal? MonthlyBudget => Budget is null ? null : decimal.Parse(Budget, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    public override ValidationResult Validate()
    {
        if (BoxCommands.CheckName(Name) is { } name)
        {
            return ValidationResult.Error(name);
        }

        if (string.IsNullOrWhiteSpace(Owner))
        {
            return ValidationResult.Error($"--owner is required: whose box it is ({BoxPrefix.OwnerRule}), e.g. spotdevbox box add {Name} --owner {Name}");
        }

        if (!BoxPrefix.IsOwnerName(Owner))
        {
            return ValidationResult.Error($"--owner must be {BoxPrefix.OwnerRule}; nothing was changed");
        }

        if (TimeZone is not null && Schedule is null)
        {
            return ValidationResult.Error("--tz goes with --schedule (e.g. --schedule \"Mon-Fri 09:00-18:00\" --tz Europe/Berlin)");
        }

        if (SshVia is not null && Core.Ssh.SshRoutes.TryParse(SshVia) is null)
        {
            return ValidationResult.Error($"--ssh-via must be one of {Core.Ssh.SshRoutes.Names}");
        }

        if (Budget is not null && (!decimal.TryParse(Budget, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var usd) || usd <= 0))
        {
            return ValidationResult.Error("--budget must be an amount in USD above 0, such as 40 or 12.50");
        }

        return ValidationResult.Success();
    }
}

internal sealed class BoxRemoveSettings : CommandSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("The box's name in Controller:Boxes.")]
    public string Name { get; set; } = "";

    [CommandOption("--delete-repository")]
    [Description("Also delete every object under the box's storage prefix (its backups, host keys, sessions). A versioned bucket keeps the old versions until its lifecycle rule expires them. Default: the repository stays.")]
    public bool DeleteRepository { get; set; }

    [CommandOption("--config <FILE>")]
    [Description("The configuration file to remove the box from. Default: $SPOTDEVBOX_CONFIG, else ~/.config/spotdevbox/spotdevbox.json.")]
    public string? Config { get; set; }

    public override ValidationResult Validate() =>
        BoxCommands.CheckName(Name) is { } name ? ValidationResult.Error(name) : ValidationResult.Success();
}

[Description(
    "Make a box on the fleet 'spotdevbox setup' deployed: its role and instance profile (the stack <fleet>-box-NAME, from deploy/cloudformation/box.yaml), " +
    "then its entry Controller:Boxes:NAME in your configuration file (region, types, subnets, image, security groups, storage prefix). " +
    "Running it again with the same arguments changes nothing. Then: spotdevbox up NAME.")]
internal sealed class BoxAddCommand(IConfiguration configuration, IServiceProvider services, TimeProvider time) : AsyncCommand<BoxAddSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, BoxAddSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var name = settings.Name;
        var owner = settings.Owner!;
        var file = ConfigurationFiles.WritableFile(settings.Config);
        var controller = BoxCommands.ReadController(configuration, file);
        var fleet = controller.Fleet
            ?? throw new ArgumentException($"no fleet is set up (no Controller:Fleet in the configuration, which was read with {file}): run 'spotdevbox setup' first");
        if (controller.Boxes.TryGetValue(name, out var existing) && existing.Owner != owner)
        {
            throw new ArgumentException($"the box {name} is already configured for another owner: choose another name, or remove it first (spotdevbox box remove {name}); nothing was changed");
        }

        var (bucket, root) = BoxPrefix.TryParseStorageRoot(fleet.StorageRoot)!.Value;
        var agentPrefix = AgentBuildsPrefix(controller.AgentBuilds, bucket);
        var types = settings.Types.Length > 0 ? settings.Types.ToList() : [.. fleet.InstanceTypesOrDefault()];
        var arch = await ArchitectureAsync(fleet.Region, types, cancellationToken);
        var zone = ZoneOf(settings);

        var stacks = new CloudFormationStacks(services.GetRequiredService<IAwsCliFactory>().For(fleet.Region), time);
        var stack = fleet.BoxStackName(name);
        var template = CloudFormationTemplates.PathOf("box.yaml");
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Owner"] = owner,
            ["Box"] = name,
            ["Bucket"] = bucket,
            ["Root"] = root,
            ["AgentBuildsPrefix"] = agentPrefix,
        };
        if (fleet.KmsKeyArn.Length > 0)
        {
            // The bucket's SSE-KMS key: the box's role may use it, through S3 only (box.yaml).
            parameters["KmsKeyArn"] = fleet.KmsKeyArn;
        }

        if (fleet.RepositoryKeyArn.Length > 0)
        {
            // The repositories' key: the box's role may make and unwrap its own master keys (box.yaml's RepositoryKeyPolicy).
            parameters["RepositoryKeyArn"] = fleet.RepositoryKeyArn;
        }

        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { [BoxTags.Owner] = owner, [BoxTags.Box] = name };

        // What the stack makes: an instance profile named as the box, and the prefix ROOT/OWNER/NAME.
        var storage = BoxPrefix.Under(fleet.StorageRoot, owner, name)!.ToString();
        var editor = ConfigurationFileEditor.Load(file);
        var entry = Entry(editor, settings, fleet, types, arch, zone, name, storage);
        BoxCommands.Validate(controller, name, entry);

        if (settings.Print)
        {
            Console.Out.WriteLine("# the box's stack:");
            Console.Out.WriteLine(AwsCli.Render(stacks.DeployCommand(stack, template, parameters, tags)));
            Console.Out.WriteLine($"# then, in {file}:");
            Console.Out.Write(ConfigurationFileEditor.Render(new JsonObject { ["Controller"] = new JsonObject { ["Boxes"] = new JsonObject { [name] = entry.DeepClone() } } }));
            return ExitCodes.Ok;
        }

        Console.Error.WriteLine($"deploying the stack {stack} (the box's role and instance profile) in {fleet.Region} ...");
        var deployed = await stacks.DeployAsync(stack, template, parameters, tags, BoxCommands.Progress(), cancellationToken);
        var profile = deployed.Outputs.GetValueOrDefault("InstanceProfileName");
        if (string.IsNullOrEmpty(profile))
        {
            // An implementation that keeps no outputs for a stack made through a change set (moto): its resource says the same.
            profile = (await stacks.ResourcesAsync(stack, cancellationToken)).GetValueOrDefault("InstanceProfile") ?? name;
        }

        storage = deployed.Outputs.GetValueOrDefault("Storage") is { Length: > 0 } output ? output : storage;
        entry = Entry(editor, settings, fleet, types, arch, zone, name, storage, profile);
        BoxCommands.Validate(controller, name, entry);
        editor.Set(["Controller", "Boxes", name], entry);
        var wrote = editor.Save(Console.Error);

        Console.Out.WriteLine($"stack {stack}: {deployed.Said}");
        Console.Out.WriteLine(wrote ? $"Controller:Boxes:{name}: written to {file}" : $"Controller:Boxes:{name}: unchanged in {file}");
        if (deployed.Outcome == StackOutcome.Unchanged && !wrote)
        {
            Console.Out.WriteLine($"nothing changed: the box {name} is already set up as asked");
        }

        Console.Out.WriteLine($"box {name} of {owner}: {string.Join(", ", types)} ({arch}) in {fleet.Region}, instance profile {profile}, storage {storage}");
        if (settings.Schedule is not null && settings.TimeZone is null)
        {
            Console.Out.WriteLine($"schedule times are in {zone} (this computer's time zone; --tz chooses another)");
        }

        Console.Out.WriteLine($"next: spotdevbox up {name}");
        return ExitCodes.Ok;
    }

    /// <summary>The box's entry: the existing one (settings added by hand are kept) with every setting box add owns set.</summary>
    private static JsonObject Entry(
        ConfigurationFileEditor editor, BoxAddSettings settings, FleetOptions fleet, List<string> types, string arch, string zone, string name, string storage, string? profile = null)
    {
        var entry = editor.Get("Controller", "Boxes", name)?.DeepClone() as JsonObject ?? [];
        void Set(string key, JsonNode? value)
        {
            var found = entry.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) ?? key;
            entry[found] = value;
        }

        static JsonArray Strings(IEnumerable<string> values) => [.. values.Select(v => (JsonNode?)JsonValue.Create(v))];

        Set("Owner", settings.Owner);
        Set("Region", fleet.Region);
        Set("InstanceTypes", Strings(types));
        Set("Subnets", Strings(fleet.Subnets));
        Set("ImageNameFilter", fleet.ImageNameFilterFor(arch));
        Set("ImageOwner", fleet.ImageOwner);
        Set("SecurityGroups", Strings(fleet.SecurityGroups));
        Set("InstanceProfile", profile ?? name);
        Set("Storage", storage);
        Set("User", settings.User ?? (string?)entry["User"] ?? settings.Owner);
        Set("SshVia", settings.SshVia ?? (string?)entry["SshVia"] ?? fleet.SshVia);
        if (settings.KeyPair is { } keyPair)
        {
            Set("KeyPair", keyPair);
        }

        if (settings.MonthlyBudget is { } budget)
        {
            Set("MonthlyBudget", JsonValue.Create(budget));
        }

        if (settings.Schedule is { } schedule)
        {
            var s = entry.FirstOrDefault(p => string.Equals(p.Key, "Schedule", StringComparison.OrdinalIgnoreCase)).Value?.DeepClone() as JsonObject ?? [];
            s["TimeZone"] = zone;
            s["Periods"] = Strings([schedule]);
            Set("Schedule", s);
        }

        return entry;
    }

    private string ZoneOf(BoxAddSettings settings)
    {
        if (settings.TimeZone is { } tz)
        {
            return tz;
        }

        var local = time.LocalTimeZone;
        if (local.HasIanaId)
        {
            return local.Id;
        }

        return TimeZoneInfo.TryConvertWindowsIdToIanaId(local.Id, out var iana) ? iana : "UTC";
    }

    /// <summary>The agent builds' key prefix in the fleet's bucket (what the box's role may read).</summary>
    private static string AgentBuildsPrefix(string agentBuilds, string bucket)
    {
        var required = $"{ControllerOptions.SectionName}:{nameof(ControllerOptions.AgentBuilds)}";
        if (string.IsNullOrWhiteSpace(agentBuilds))
        {
            throw new ArgumentException($"{required} is not set: the prefix 'spotdevbox agent publish' wrote the agent builds to, s3://{bucket}/PREFIX (setup writes it); nothing was changed");
        }

        var location = Backup.Storage.RepositoryLocation.Parse(agentBuilds);
        return location.Bucket == bucket && location.Prefix.Length > 0
            ? location.Prefix
            : throw new ArgumentException($"{required} must be in the fleet's bucket ({bucket}), where the boxes' roles may read it; nothing was changed");
    }

    /// <summary>amd64 or arm64 (the images' names), the one architecture all <paramref name="types"/> run.</summary>
    private async Task<string> ArchitectureAsync(string region, List<string> types, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, IReadOnlySet<CpuArchitecture>> byType;
        try
        {
            byType = await services.GetRequiredService<IComputeGatewayFactory>().ForRegion(region).DescribeInstanceTypeArchitecturesAsync(types, cancellationToken);
        }
        catch (ComputeException e) when (e.Failure == ComputeFailure.Rejected)
        {
            // EC2 refuses the whole call for a type the region does not offer; its message names it.
            throw new ArgumentException($"EC2 in {region} does not take these instance types ({e.Message}): choose others with --type; nothing was changed", e);
        }

        if (types.FirstOrDefault(t => !byType.ContainsKey(t)) is { } unknown)
        {
            throw new ArgumentException($"EC2 in {region} does not offer the instance type {unknown}: choose others with --type; nothing was changed");
        }

        var common = types.Select(t => byType.TryGetValue(t, out var a) ? a : (IReadOnlySet<CpuArchitecture>)new HashSet<CpuArchitecture>())
            .Aggregate((IEnumerable<CpuArchitecture>)[CpuArchitecture.X64, CpuArchitecture.Arm64], (all, a) => all.Intersect(a))
            .ToList();
        if (common.Count == 0)
        {
            var each = types.Select(t => $"{t} ({string.Join("/", (byType.TryGetValue(t, out var a) ? a : new HashSet<CpuArchitecture>()).Select(Name))})");
            throw new ArgumentException($"the instance types run on different architectures, but one image serves them all: {string.Join(", ", each)}; choose types of one architecture with --type; nothing was changed");
        }

        return Name(common.Contains(CpuArchitecture.X64) ? CpuArchitecture.X64 : common[0]);

        static string Name(CpuArchitecture a) => a == CpuArchitecture.X64 ? "amd64" : "arm64";
    }
}

[Description(
    "Remove a box: refused while it has a live instance (spotdevbox down NAME first). Deletes its stack (its role and instance profile) and its " +
    "entry Controller:Boxes:NAME in your configuration file. Its repository stays in the bucket unless --delete-repository. Running it again changes nothing.")]
internal sealed class BoxRemoveCommand(IConfiguration configuration, IServiceProvider services, RepositoryOpener opener, TimeProvider time) : AsyncCommand<BoxRemoveSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, BoxRemoveSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var name = settings.Name;
        var file = ConfigurationFiles.WritableFile(settings.Config);
        var controller = BoxCommands.ReadController(configuration, file);
        var fleet = controller.Fleet ?? new FleetOptions();
        controller.Boxes.TryGetValue(name, out var box);
        var region = box?.Region is { Length: > 0 } r ? r : fleet.Region;
        if (string.IsNullOrEmpty(region))
        {
            Console.Out.WriteLine($"nothing to remove: the box {name} is not configured (and no Controller:Fleet names a region to look for its stack in)");
            return ExitCodes.Ok;
        }

        var instances = await services.GetRequiredService<IComputeGatewayFactory>().ForRegion(region).FindBoxInstancesAsync(name, cancellationToken);
        if (instances.FirstOrDefault(i => i.IsLive) is { } live)
        {
            throw new ArgumentException($"the box {name} has a live instance ({live.InstanceId}): run 'spotdevbox down {name}' first, and remove it once it has stopped; nothing was changed");
        }

        var stacks = new CloudFormationStacks(services.GetRequiredService<IAwsCliFactory>().For(region), time);
        var stack = fleet.BoxStackName(name);
        var described = await stacks.DescribeAsync(stack, cancellationToken);
        var storage = box?.Storage is { Length: > 0 } s ? s : StorageOf(described);

        if (described is not null)
        {
            Console.Error.WriteLine($"deleting the stack {stack} (the box's role and instance profile) in {region} ...");
            await stacks.DeleteAsync(stack, BoxCommands.Progress(), cancellationToken);
            Console.Out.WriteLine($"stack {stack}: deleted");
        }
        else
        {
            Console.Out.WriteLine($"stack {stack}: not there");
        }

        var editor = ConfigurationFileEditor.Load(file);
        if (editor.Remove(["Controller", "Boxes", name]))
        {
            editor.Save(Console.Error);
            Console.Out.WriteLine($"Controller:Boxes:{name}: removed from {file}");
        }
        else if (box is not null)
        {
            Console.Error.WriteLine($"warning: Controller:Boxes:{name} is set in another configuration file than {file}: remove it there (or pass --config FILE)");
        }
        else
        {
            Console.Out.WriteLine($"Controller:Boxes:{name}: not in {file}");
        }

        if (storage is null)
        {
            return ExitCodes.Ok;
        }

        if (!settings.DeleteRepository)
        {
            Console.Out.WriteLine($"the box's repository stays in {storage} (spotdevbox box remove {name} --delete-repository deletes it)");
            return ExitCodes.Ok;
        }

        var deleted = await DeleteObjectsAsync(storage, region, cancellationToken);
        Console.Out.WriteLine(
            $"deleted {Terminal.Count(deleted, "object")} under {storage}; the bucket is versioned: their old versions stay until its lifecycle rule expires them");
        return ExitCodes.Ok;
    }

    private static string? StorageOf(StackDescription? stack)
    {
        if (stack is null)
        {
            return null;
        }

        if (stack.Outputs.GetValueOrDefault("Storage") is { Length: > 0 } output)
        {
            return output;
        }

        var p = stack.Parameters;
        return p.TryGetValue("Bucket", out var bucket) && p.TryGetValue("Root", out var root) && p.TryGetValue("Owner", out var owner) && p.TryGetValue("Box", out var box)
            ? BoxPrefix.TryParse($"s3://{bucket}/{root}/{owner}/{box}")?.ToString()
            : null;
    }

    private async Task<long> DeleteObjectsAsync(string storage, string region, CancellationToken cancellationToken)
    {
        var store = opener.CreateStore(new RepositorySettings { Repository = storage, Region = region });
        try
        {
            var keys = new List<string>();
            await foreach (var o in store.ListAsync("", cancellationToken))
            {
                keys.Add(o.Key);
            }

            foreach (var batch in keys.Chunk(1000))
            {
                await store.DeleteAsync(batch, cancellationToken);
            }

            return keys.Count;
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }
}

/// <summary>What box add and box remove share.</summary>
internal static class BoxCommands
{
    /// <summary>Why <paramref name="name"/> is not a box name, or null when it is.</summary>
    public static string? CheckName(string? name) =>
        ControllerOptionsValidator.IsBoxName(name) ? null : $"NAME must be a box name, {ControllerOptionsValidator.BoxNameRule}; nothing was changed";

    /// <summary>
    /// The controller's settings as every verb reads them, with <paramref name="file"/> (the one the verb writes,
    /// given with --config) read last when it is not in the chain already; validated as the controller validates them.
    /// </summary>
    public static ControllerOptions ReadController(IConfiguration configuration, string file)
    {
        // A manager loads (and ConfigurationFiles checks) each file as it is added: a broken one is named, exit 2.
        var chain = new ConfigurationManager();
        chain.AddConfiguration(configuration);
        ConfigurationFiles.AddOptionalFile(chain, file);
        return ControllerConfiguration.ReadValidated(chain);
    }

    /// <summary>
    /// <paramref name="controller"/> with box <paramref name="name"/> as <paramref name="entry"/> says, checked as the
    /// controller checks its configuration at start: a box that would not pass is not written (exit 2).
    /// </summary>
    public static void Validate(ControllerOptions controller, string name, JsonObject entry)
    {
        var json = Encoding.UTF8.GetBytes(new JsonObject { ["Box"] = entry.DeepClone() }.ToJsonString());
        using var stream = new MemoryStream(json);
        var section = new ConfigurationBuilder().AddJsonStream(stream).Build().GetSection("Box");
        var box = new BoxOptions();
        section.Bind(box, o => o.ErrorOnUnknownConfiguration = true);
        var boxes = controller.Boxes.ToDictionary(StringComparer.Ordinal);
        controller.Boxes.Clear();
        foreach (var (k, v) in boxes.Where(b => b.Key != name))
        {
            controller.Boxes[k] = v;
        }

        controller.Boxes[name] = box;
        var result = new ControllerOptionsValidator().Validate(null, controller);
        if (result.Failed)
        {
            throw new ArgumentException($"the box would not pass the controller's checks, so nothing was written: {string.Join("; ", result.Failures)}");
        }
    }

    /// <summary>Each stack event as a line on stderr, as it happens.</summary>
    public static IProgress<StackEvent> Progress() => new EventLines();

    private sealed class EventLines : IProgress<StackEvent>
    {
        public void Report(StackEvent value) => Console.Error.WriteLine("  " + Terminal.Safe(value.ToString()));
    }
}
