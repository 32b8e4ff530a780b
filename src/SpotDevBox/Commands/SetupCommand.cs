using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Spectre.Console.Cli;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Builds;
using SpotDevBox.Controller;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Ssh;
using SpotDevBox.Deploy;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

/// <summary>
/// From an AWS account to a fleet 'box add' can add boxes to: checks the CLI, the credentials and the region, chooses the
/// network and the image (and shows them), creates or updates the fleet stack (deploy/cloudformation/fleet.yaml) with its
/// events as progress, publishes the agent build, and writes Controller:Fleet and Controller:AgentBuilds. Every step
/// looks before it acts, so a rerun changes nothing that is already right.
/// </summary>
[Description("Deploy the AWS side once (guided, safe to re-run): check the AWS CLI, credentials and region; choose the VPC, subnets and image (shown); create or update the fleet's CloudFormation stack (the bucket, roles, policies, security group and SSH path), showing its events; publish the agent build; write the configuration; print the next command. Needs the AWS CLI v2 and an administrator's rights (docs/setup.md).")]
internal sealed class SetupCommand(
    IConfiguration configuration,
    IAwsCliFactory clis,
    IComputeGatewayFactory compute,
    RepositoryOpener opener,
    TimeProvider time) : AsyncCommand<SetupSettings>
{
    /// <summary>The architectures of the boxes' images, as Debian names them, with the architecture EC2 names.</summary>
    private static readonly (string Token, string Ec2)[] Architectures = [("amd64", "x86_64"), ("arm64", "arm64")];

    public override async Task<int> ExecuteAsync(CommandContext context, SetupSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var file = ConfigurationFiles.WritableFile(settings.Config);
        var editor = ConfigurationFileEditor.Load(file);
        // An earlier setup's choices are read from the file this one writes, over what else is configured.
        var controller = ControllerConfiguration.ReadValidated(settings.Config is null ? configuration : WithFile(configuration, file));
        var existing = controller.Fleet;

        var boxRegions = controller.Boxes.Values.Select(b => b.Region).Distinct(StringComparer.Ordinal).ToList();
        var region = settings.Region
            ?? (existing?.Region is { Length: > 0 } r ? r : null)
            ?? (settings.Import && boxRegions.Count == 1 ? boxRegions[0] : null)
            ?? await DefaultRegionAsync(cancellationToken)
            ?? throw new ArgumentException("no region: give --region (e.g. --region eu-central-1), or set one with 'aws configure set region REGION'");
        if (existing is { Region.Length: > 0 } && existing.Region != region)
        {
            throw new ArgumentException(
                $"Controller:Fleet in the configuration is in {existing.Region}, not {region}: one configuration holds one fleet; give --config ANOTHER_FILE for a fleet in {region}");
        }

        var cli = clis.For(region);
        Step("region", region);
        var identity = await IdentityAsync(cli, cancellationToken);
        Step("account", $"{identity.Account}, as {identity.Arn}");

        if (settings.Import)
        {
            return await ImportAsync(settings, controller, editor, region, cancellationToken);
        }

        var stacks = new CloudFormationStacks(cli, time);
        var stackName = settings.Stack ?? (existing?.Stack is { Length: > 0 } s ? s : FleetOptions.DefaultStack);
        var stack = await stacks.DescribeAsync(stackName, cancellationToken);
        if (stack is { Status: var busy } && busy.EndsWith("_IN_PROGRESS", StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"spotdevbox: the stack {stackName} is busy ({busy}): wait until it settles ('aws cloudformation describe-stacks --stack-name {stackName} --region {region}'), then run setup again");
            return ExitCodes.Failure;
        }

        var current = stack is null ? null : await FleetResources.ReadAsync(stacks, stackName, cancellationToken);
        if (settings.Bucket is { } wantedBucket && current is not null && current.Bucket != wantedBucket)
        {
            throw new ArgumentException($"--bucket {wantedBucket}: the stack {stackName} already has the bucket {current.Bucket}, and another name would replace it; leave --bucket out");
        }

        var gateway = compute.ForRegion(region);
        var vpcId = settings.Vpc ?? stack?.Parameters.GetValueOrDefault("VpcId");
        var network = await NetworkAsync(gateway, vpcId, region, cancellationToken);
        var subnets = ChooseSubnets(settings, existing, network);
        Step("network", $"{network.VpcId}{(network.IsDefault ? " (the default VPC)" : "")}, subnets {string.Join(", ", subnets.Select(x => $"{x.SubnetId} ({x.AvailabilityZone})"))}");

        var imageFilter = settings.ImageFilter ?? existing?.ImageNameFilter ?? new FleetOptions().ImageNameFilter;
        var imageOwner = settings.ImageOwner ?? existing?.ImageOwner ?? FleetOptions.DebianImageOwner;
        await ShowImagesAsync(gateway, imageFilter, imageOwner, region, cancellationToken);

        var sshVia = settings.SshVia ?? existing?.SshVia ?? SshRoutes.InstanceConnectName;
        var sshCidr = sshVia == SshRoutes.DirectName ? await SshCidrAsync(settings.SshFrom, stack, cancellationToken) : "";
        Step("ssh", SshDescription(sshVia, sshCidr));

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["VpcId"] = network.VpcId,
            ["ImageOwners"] = imageOwner,
            ["SshVia"] = sshVia,
            ["EndpointSubnetId"] = sshVia == SshRoutes.InstanceConnectName ? subnets[0].SubnetId : "",
            ["SshCidr"] = sshCidr,
        };
        if (settings.Bucket is not null)
        {
            parameters["BucketName"] = settings.Bucket;
        }

        if (settings.KmsKey is not null)
        {
            parameters["KmsKeyArn"] = settings.KmsKey;
        }

        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["spotdevbox:fleet"] = stackName };
        var template = CloudFormationTemplates.PathOf("fleet.yaml");
        if (settings.Print)
        {
            return Print(settings, stacks, stackName, template, parameters, tags, current, region, subnets, imageFilter, imageOwner, sshVia, editor);
        }

        if (stack is not null && await UpToDateAsync(cli, stackName, template, parameters, tags, cancellationToken))
        {
            Step("fleet stack", $"{stackName} unchanged");
        }
        else
        {
            Console.Error.WriteLine(stack is null ? $"creating the fleet stack {stackName} (a few minutes; its events follow)" : $"updating the fleet stack {stackName} (its events follow)");
            var deployed = await stacks.DeployAsync(stackName, template, parameters, tags, new Progress(), cancellationToken);
            Step("fleet stack", $"{stackName} {deployed.Said}");
        }

        var made = await FleetResources.ReadAsync(stacks, stackName, cancellationToken);
        var agentBuilds = made.AgentBuilds;

        var agent = await PublishAgentAsync(settings, agentBuilds, region, cancellationToken);

        var fleet = FleetJson(stackName, region, made.StorageRoot, [made.SecurityGroup], subnets, imageFilter, imageOwner, sshVia, existing);
        if (made.KmsKey is { Length: > 0 } kms)
        {
            // box add gives each box's role the use of the key (box.yaml's KmsKeyArn).
            fleet["KmsKeyArn"] = kms;
        }

        if (made.RepositoryKey is { Length: > 0 } repositoryKey)
        {
            // box add lets each box's role use it with its own context; the controller passes it to each launch.
            fleet["RepositoryKeyArn"] = repositoryKey;
        }

        editor.Set(["Controller", "AgentBuilds"], agentBuilds);
        editor.Set(["Controller", "Fleet"], fleet);
        if (editor.Get("Storage", "Region") is null)
        {
            // The S3 client of up, status and the rest asks the SDK's chain for a region, which may have none.
            editor.Set(["Storage", "Region"], region);
        }

        SaveConfiguration(editor);
        Summary(made, sshVia, agent);
        return ExitCodes.Ok;
    }

    private enum AgentState
    {
        Published,
        AlreadyThere,
        Missing,
    }

    /// <summary>
    /// Whether the stack already runs this template with these parameters and tags: then setup deploys nothing (no
    /// change set is made and deleted on every rerun). A list parameter is compared item by item.
    /// </summary>
    private static async Task<bool> UpToDateAsync(
        IAwsCli cli,
        string stack,
        string template,
        IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, string> tags,
        CancellationToken cancellationToken)
    {
        var body = (string?)(await cli.JsonAsync(["cloudformation", "get-template", "--stack-name", stack], cancellationToken))?["TemplateBody"];
        if (body is null || body.ReplaceLineEndings() != (await File.ReadAllTextAsync(template, cancellationToken)).ReplaceLineEndings())
        {
            return false;
        }

        var described = (await cli.JsonAsync(["cloudformation", "describe-stacks", "--stack-name", stack], cancellationToken))?["Stacks"]?[0];
        var now = Pairs(described?["Parameters"], "ParameterKey", "ParameterValue");
        var tagged = Pairs(described?["Tags"], "Key", "Value");
        return parameters.All(p => now.TryGetValue(p.Key, out var value) && Items(value).SequenceEqual(Items(p.Value), StringComparer.Ordinal))
            && tags.All(t => tagged.TryGetValue(t.Key, out var value) && value == t.Value);

        static Dictionary<string, string> Pairs(JsonNode? list, string key, string value) =>
            (list as JsonArray ?? []).OfType<JsonObject>()
                .Where(o => (string?)o[key] is not null)
                .ToDictionary(o => (string)o[key]!, o => (string?)o[value] ?? "", StringComparer.Ordinal);

        // "a,b" as CloudFormation gives a CommaDelimitedList back ("['a', 'b']" as moto does).
        static IEnumerable<string> Items(string value) =>
            value.Trim().TrimStart('[').TrimEnd(']').Split(',').Select(i => i.Trim().Trim('\'', '"').Trim());
    }

    private static IConfiguration WithFile(IConfiguration configuration, string file)
    {
        var builder = new ConfigurationBuilder().AddConfiguration(configuration);
        if (File.Exists(file))
        {
            builder.AddJsonFile(file, optional: false, reloadOnChange: false);
        }

        return builder.Build();
    }

    private static void Step(string what, string said) => Console.Out.WriteLine($"{what + ":",-14} {said}");

    /// <summary>$AWS_REGION, $AWS_DEFAULT_REGION, else the CLI's configured region (its profile's); null when none.</summary>
    private async Task<string?> DefaultRegionAsync(CancellationToken cancellationToken)
    {
        foreach (var variable in new[] { "AWS_REGION", "AWS_DEFAULT_REGION" })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
            {
                return SshRoutes.IsRegion(value) ? value : throw new ArgumentException($"${variable} is not a region name (e.g. eu-central-1): fix it or give --region");
            }
        }

        // 'aws configure get region' reads the profile; the region given to it is only for the call's own client.
        var probe = clis.For("us-east-1");
        var result = await probe.RunAsync(["configure", "get", "region"], cancellationToken);
        var said = result.Stdout.Trim().Trim('"');
        return result.ExitCode == 0 && SshRoutes.IsRegion(said) ? said : null;
    }

    private static async Task<(string Account, string Arn)> IdentityAsync(IAwsCli cli, CancellationToken cancellationToken)
    {
        var result = await cli.RunAsync(["sts", "get-caller-identity"], cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new AwsCliException(
                $"no usable AWS credentials ({AwsCli.ErrorLine(result)}): sign in first, e.g. 'aws configure' or 'aws sso login', then run setup again",
                result.ExitCode);
        }

        var json = JsonNode.Parse(result.Stdout);
        return ((string?)json?["Account"] ?? "?", (string?)json?["Arn"] ?? "?");
    }

    private static async Task<VpcNetwork> NetworkAsync(IComputeGateway gateway, string? vpcId, string region, CancellationToken cancellationToken)
    {
        VpcNetwork? network;
        try
        {
            network = await gateway.DescribeVpcAsync(vpcId, cancellationToken);
        }
        catch (ComputeException e) when (e.Failure == ComputeFailure.NotFound && vpcId is not null)
        {
            throw new ArgumentException($"--vpc {vpcId}: there is no such VPC in {region}");
        }

        if (network is null)
        {
            throw new ArgumentException($"{region} has no default VPC: give --vpc VPC and --subnet SUBNET (subnets whose boxes reach S3 and EC2: a public subnet, or a NAT or VPC endpoints)");
        }

        if (network.Subnets.Count == 0)
        {
            throw new ArgumentException($"the VPC {network.VpcId} has no subnets: make one, or give another --vpc");
        }

        return network;
    }

    /// <summary>--subnet (each must be in the VPC), else the earlier setup's, else one subnet per zone (a default one first).</summary>
    private static List<VpcSubnet> ChooseSubnets(SetupSettings settings, FleetOptions? existing, VpcNetwork network)
    {
        if (settings.Subnets.Length > 0)
        {
            var chosen = new List<VpcSubnet>();
            foreach (var id in settings.Subnets.Distinct(StringComparer.Ordinal))
            {
                chosen.Add(network.Subnets.FirstOrDefault(s => s.SubnetId == id)
                    ?? throw new ArgumentException($"--subnet {id} is not a subnet of {network.VpcId}; its subnets are {string.Join(", ", network.Subnets.Select(s => s.SubnetId))}"));
            }

            return chosen;
        }

        if (existing is { Subnets.Count: > 0 } && existing.Subnets.All(id => network.Subnets.Any(s => s.SubnetId == id)))
        {
            return [.. existing.Subnets.Select(id => network.Subnets.First(s => s.SubnetId == id))];
        }

        return [.. network.Subnets
            .GroupBy(s => s.AvailabilityZone, StringComparer.Ordinal)
            .Select(zone => zone.OrderByDescending(s => s.DefaultForZone).ThenBy(s => s.SubnetId, StringComparer.Ordinal).First())
            .OrderBy(s => s.AvailabilityZone, StringComparer.Ordinal)];
    }

    private static async Task ShowImagesAsync(IComputeGateway gateway, string filter, string owner, string region, CancellationToken cancellationToken)
    {
        var found = 0;
        foreach (var (token, ec2) in Architectures)
        {
            var pattern = filter.Replace(FleetOptions.ArchToken, token, StringComparison.Ordinal);
            var image = await gateway.DescribeImageAsync(ImageSelector.ByName(pattern, [owner]), cancellationToken);
            if (image is null)
            {
                Step($"image {token}", $"none named {pattern} owned by {owner}: boxes on {ec2} instance types cannot launch");
                continue;
            }

            found++;
            var created = image.CreationDate is { } c ? ", created " + c.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "";
            Step($"image {token}", $"{image.ImageId} {image.Name}{created} (each launch takes the newest named {pattern})");
        }

        if (found == 0)
        {
            throw new ArgumentException($"no image in {region} is named {filter.Replace(FleetOptions.ArchToken, "amd64", StringComparison.Ordinal)} (or arm64) and owned by {owner}: give --image-filter and --image-owner of images this account can launch");
        }
    }

    /// <summary>The CIDR opened on TCP 22: --ssh-from, else the stack's (a rerun keeps it), else this machine's public address.</summary>
    private static async Task<string> SshCidrAsync(string? from, StackDescription? stack, CancellationToken cancellationToken)
    {
        if (from is not null && from != "my-ip")
        {
            return SetupSettings.SshCidr(from)!;
        }

        if (from is null && stack?.Parameters.GetValueOrDefault("SshCidr") is { Length: > 0 } kept)
        {
            return kept;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string said;
        try
        {
            said = (await http.GetStringAsync(new Uri("https://checkip.amazonaws.com/"), cancellationToken)).Trim();
        }
        catch (HttpRequestException e)
        {
            throw new ArgumentException($"--ssh-from my-ip: this machine's public address could not be learnt ({e.Message}); give it as --ssh-from ADDRESS");
        }

        return SetupSettings.SshCidr(said) ?? throw new ArgumentException("--ssh-from my-ip: checkip.amazonaws.com did not answer with an IPv4 address; give yours as --ssh-from ADDRESS");
    }

    private static string SshDescription(string sshVia, string sshCidr) => sshVia switch
    {
        SshRoutes.SsmName => "ssm: through Session Manager, no inbound port (people need the Session Manager plugin)",
        SshRoutes.DirectName => $"direct: TCP 22 open to {sshCidr} only",
        _ => "instance-connect: through the fleet's EC2 Instance Connect Endpoint, no port open to the internet",
    };

    private int Print(
        SetupSettings settings,
        CloudFormationStacks stacks,
        string stackName,
        string template,
        Dictionary<string, string> parameters,
        Dictionary<string, string> tags,
        FleetResources? stack,
        string region,
        List<VpcSubnet> subnets,
        string imageFilter,
        string imageOwner,
        string sshVia,
        ConfigurationFileEditor editor)
    {
        Console.Out.WriteLine();
        Console.Out.WriteLine($"# {(stack is null ? "create" : "update")} the fleet stack (the template ships beside spotdevbox):");
        Console.Out.WriteLine(AwsCli.Render(stacks.DeployCommand(stackName, template, parameters, tags)));
        Console.Out.WriteLine("# its outputs (Bucket, AgentBuilds, StorageRoot, SecurityGroupId, ...) fill in the capitals below:");
        Console.Out.WriteLine(AwsCli.Render(clis.For(region).Command(["cloudformation", "describe-stacks", "--stack-name", stackName, "--query", "Stacks[0].Outputs"])));
        Console.Out.WriteLine("# publish the agent build to the AgentBuilds output:");
        var archives = settings.AgentArchives.Length > 0 ? settings.AgentArchives : ["spotdevbox-VERSION-linux-x64.tar.gz"];
        Console.Out.WriteLine(AwsCli.Render(["spotdevbox", "agent", "publish", "--to", stack?.AgentBuilds ?? "AGENT_BUILDS", .. archives.SelectMany(a => new[] { "--agent-archive", a })]));
        Console.Out.WriteLine($"# then write into {editor.FilePath}:");
        var fleet = FleetJson(
            stackName,
            region,
            stack?.StorageRoot ?? "STORAGE_ROOT",
            [stack?.SecurityGroup ?? "SECURITY_GROUP_ID"],
            subnets,
            imageFilter,
            imageOwner,
            sshVia,
            null);
        var preview = new JsonObject
        {
            ["Controller"] = new JsonObject { ["AgentBuilds"] = stack?.AgentBuilds ?? "AGENT_BUILDS", ["Fleet"] = fleet },
        };
        Console.Out.WriteLine(ConfigurationFileEditor.Render(preview));
        Console.Error.WriteLine("--print: nothing was created, published or written");
        return ExitCodes.Ok;
    }

    private static JsonObject FleetJson(
        string stack,
        string region,
        string storageRoot,
        IReadOnlyList<string> securityGroups,
        IReadOnlyList<VpcSubnet> subnets,
        string imageFilter,
        string imageOwner,
        string sshVia,
        FleetOptions? existing)
    {
        var fleet = new JsonObject
        {
            ["Stack"] = stack,
            ["Region"] = region,
            ["StorageRoot"] = storageRoot,
            ["SecurityGroups"] = new JsonArray([.. securityGroups.Select(g => (JsonNode?)g)]),
            ["Subnets"] = new JsonArray([.. subnets.Select(s => (JsonNode?)s.SubnetId)]),
            ["ImageNameFilter"] = imageFilter,
            ["ImageOwner"] = imageOwner,
            ["SshVia"] = sshVia,
        };
        if (existing is { InstanceTypes.Count: > 0 })
        {
            fleet["InstanceTypes"] = new JsonArray([.. existing.InstanceTypes.Select(t => (JsonNode?)t)]);
        }

        return fleet;
    }

    /// <summary>Publishes --agent-archive, else this executable when it is a Linux release build; skips builds already published.</summary>
    private async Task<AgentState> PublishAgentAsync(SetupSettings settings, string agentBuilds, string region, CancellationToken cancellationToken)
    {
        if (settings.NoAgent)
        {
            Step("agent", "not published (--no-agent)");
            return AgentState.AlreadyThere;
        }

        var store = opener.CreateStore(new RepositorySettings { Repository = agentBuilds, Region = region });
        var scratch = Directory.CreateTempSubdirectory("spotdevbox-setup-");
        try
        {
            var previous = await ManifestAsync(store, cancellationToken);
            var files = settings.AgentArchives.ToList();
            if (files.Count == 0)
            {
                var (rid, whyNot) = RunningBuild.Describe();
                if (rid is null)
                {
                    if (previous is not null)
                    {
                        Step("agent", $"keeping the published version {previous.Version} ({whyNot}; --agent-archive publishes a release's)");
                        return AgentState.AlreadyThere;
                    }

                    Step("agent", $"none published: {whyNot}. Boxes cannot launch until one is: run setup again with --agent-archive spotdevbox-VERSION-linux-x64.tar.gz (from the release)");
                    return AgentState.Missing;
                }

                var packed = Path.Combine(scratch.FullName, $"spotdevbox-{rid}.tar.gz");
                await RunningBuild.PackAsync(packed, cancellationToken);
                files.Add(packed);
            }

            var builds = new List<InspectedBuild>();
            foreach (var path in files)
            {
                builds.Add(await InspectAnyAsync(path, cancellationToken));
            }

            if (builds.GroupBy(b => b.Rid).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                throw new ArgumentException($"--agent-archive: two archives are for {twice.Key}; give one per architecture");
            }

            if (previous is not null && builds.All(b => previous.Builds.Any(p => p.Rid == b.Rid && p.Sha256 == b.Sha256)))
            {
                Step("agent", $"already published (version {previous.Version}, {string.Join(", ", builds.Select(b => b.Rid))})");
                return AgentState.AlreadyThere;
            }

            var publisher = new AgentPublisher(time);
            var published = await publisher.PublishAsync(store, publisher.DefaultVersion(), builds, previous?.Builds ?? [], cancellationToken);
            foreach (var warning in published.Warnings)
            {
                Terminal.Warn(warning);
            }

            Step("agent", $"published version {published.Manifest.Version} ({string.Join(", ", published.Manifest.Builds.Select(b => b.Rid))}) to {agentBuilds}");
            return AgentState.Published;
        }
        finally
        {
            (store as IDisposable)?.Dispose();
            scratch.Delete(recursive: true);
        }
    }

    private static async Task<AgentBuildManifest?> ManifestAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        try
        {
            var bytes = await store.GetAsync(AgentBuildManifest.Key, cancellationToken);
            return AgentBuildManifest.Parse(bytes, AgentPublisher.Where(store, AgentBuildManifest.Key));
        }
        catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
        {
            return null;
        }
    }

    /// <summary>The archive as a build of whichever runtime its executable is for.</summary>
    private static async Task<InspectedBuild> InspectAnyAsync(string path, CancellationToken cancellationToken)
    {
        var option = $"--agent-archive {path}";
        var rid = await AgentArchive.RuntimeOfAsync(path, cancellationToken, option);
        return await AgentArchive.InspectAsync(rid, path, cancellationToken, option);
    }

    private static void SaveConfiguration(ConfigurationFileEditor editor)
    {
        var changed = editor.Changed;
        editor.Save(Console.Error);
        Step("configuration", changed ? $"wrote {editor.FilePath}" : $"{editor.FilePath} already says this");
    }

    private static void Summary(FleetResources made, string sshVia, AgentState agent)
    {
        Console.Out.WriteLine();
        Console.Out.WriteLine($"The work of every box goes to {made.StorageRoot}/OWNER/BOX (bucket {made.Bucket}: encrypted, versioned, kept when the stack goes).");
        if (sshVia == SshRoutes.InstanceConnectName)
        {
            Console.Out.WriteLine($"ssh goes through the fleet's EC2 Instance Connect Endpoint{(made.Endpoint is { Length: > 0 } e ? " " + e : "")} (people need the AWS CLI v2).");
        }

        Console.Out.WriteLine($"Developers: attach the policy {made.PeoplePolicy ?? "PeoplePolicy (a resource of the stack)"} and tag each with spotdevbox:owner=<their name>; operators: {made.OperatorPolicy ?? "OperatorPolicy (a resource of the stack)"}.");
        if (made.KmsKey is { Length: > 0 })
        {
            Console.Out.WriteLine("The bucket is encrypted with your KMS key: attach the stack's KmsPolicy to developers and operators as well (the controller and each box get it from their stacks).");
        }

        Console.Out.WriteLine(agent == AgentState.Missing
            ? "next: publish an agent build (setup --agent-archive FILE), then: spotdevbox box add NAME --owner OWNER"
            : "next: spotdevbox box add NAME --owner OWNER   (e.g. spotdevbox box add alice --owner alice)");
    }

    /// <summary>--import: the configuration's boxes and agent builds, checked, recorded as Controller:Fleet.</summary>
    private async Task<int> ImportAsync(SetupSettings settings, ControllerOptions controller, ConfigurationFileEditor editor, string region, CancellationToken cancellationToken)
    {
        if (controller.Boxes.Count == 0)
        {
            throw new ArgumentException("--import adopts the boxes of the configuration, and it has none: run setup without --import to deploy a fleet");
        }

        if (string.IsNullOrWhiteSpace(controller.AgentBuilds))
        {
            throw new ArgumentException("--import: Controller:AgentBuilds is not set: publish the agent ('spotdevbox agent publish --to s3://BUCKET/PREFIX ...') and set it first");
        }

        var prefixes = controller.Boxes.ToDictionary(b => b.Key, b => BoxPrefix.TryParse(b.Value.Storage)!, StringComparer.Ordinal);
        var roots = prefixes.Values.Select(p => $"s3://{p.Bucket}/{p.Root}").Distinct(StringComparer.Ordinal).ToList();
        if (roots.Count != 1)
        {
            throw new ArgumentException($"--import: the boxes' Storage lie under {roots.Count} roots ({string.Join(", ", roots)}): a fleet has one s3://BUCKET/ROOT");
        }

        var regions = controller.Boxes.Values.Select(b => b.Region).Distinct(StringComparer.Ordinal).ToList();
        if (regions.Count != 1 || regions[0] != region)
        {
            throw new ArgumentException($"--import: the boxes run in {string.Join(", ", regions)}; give --region {regions[0]} (a fleet is one region)");
        }

        var (name, first) = controller.Boxes.OrderBy(b => b.Key, StringComparer.Ordinal).First();
        var gateway = compute.ForRegion(region);
        var zones = await gateway.DescribeSubnetZonesAsync([.. first.Subnets], cancellationToken);
        Step("network", first.Subnets.Count == 0 ? "the default VPC's subnets (box " + name + " names none)" : string.Join(", ", first.Subnets.Select(id => $"{id} ({zones.GetValueOrDefault(id, "?")})")));

        var store = opener.CreateStore(new RepositorySettings { Repository = controller.AgentBuilds, Region = region });
        try
        {
            var manifest = await ManifestAsync(store, cancellationToken)
                ?? throw new ArgumentException($"--import: no agent build is published at Controller:AgentBuilds ({controller.AgentBuilds}): publish one with 'spotdevbox agent publish' first");
            Step("agent", $"version {manifest.Version} ({string.Join(", ", manifest.Builds.Select(b => b.Rid))})");
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }

        var filter = first.ImageNameFilter is { Length: > 0 } f && Architectures.FirstOrDefault(a => f.Contains(a.Token, StringComparison.Ordinal)) is { Token: { } token }
            ? f.Replace(token, FleetOptions.ArchToken, StringComparison.Ordinal)
            : new FleetOptions().ImageNameFilter;
        var owner = first.ImageOwner is { Length: > 0 } o ? o : FleetOptions.DebianImageOwner;
        var fleet = new JsonObject
        {
            ["Stack"] = "",
            ["Region"] = region,
            ["StorageRoot"] = roots[0],
            ["SecurityGroups"] = new JsonArray([.. first.SecurityGroups.Select(g => (JsonNode?)g)]),
            ["Subnets"] = new JsonArray([.. first.Subnets.Select(s => (JsonNode?)s)]),
            ["ImageNameFilter"] = filter,
            ["ImageOwner"] = owner,
            ["InstanceTypes"] = new JsonArray([.. first.InstanceTypes.Select(t => (JsonNode?)t)]),
            ["SshVia"] = first.SshVia is { Length: > 0 } via ? via : SshRoutes.InstanceConnectName,
        };
        Step("adopted", $"{controller.Boxes.Count} box(es) under {roots[0]}; new boxes take box {name}'s security groups, subnets and image");
        if (settings.Print)
        {
            Console.Out.WriteLine($"# would write Controller:Fleet into {editor.FilePath}:");
            Console.Out.WriteLine(ConfigurationFileEditor.Render(fleet));
            Console.Error.WriteLine("--print: nothing was written");
            return ExitCodes.Ok;
        }

        editor.Set(["Controller", "Fleet"], fleet);
        SaveConfiguration(editor);
        Console.Out.WriteLine("next: spotdevbox box add NAME --owner OWNER   (box stacks are named spotdevbox-box-NAME)");
        return ExitCodes.Ok;
    }

    /// <summary>A stack's events on stderr as they arrive.</summary>
    private sealed class Progress : IProgress<StackEvent>
    {
        public void Report(StackEvent value) => Console.Error.WriteLine("  " + Terminal.Safe(value.ToString()));
    }

    /// <summary>
    /// What the fleet stack made, from its resources and parameters rather than its outputs: the same on AWS and on
    /// moto, which keeps no outputs for a stack made through a change set (what 'aws cloudformation deploy' does).
    /// </summary>
    private sealed record FleetResources(string Bucket, string Root, string AgentBuildsPrefix, string SecurityGroup, string? PeoplePolicy, string? OperatorPolicy, string? Endpoint, string? KmsKey, string? RepositoryKey)
    {
        public string StorageRoot => $"s3://{Bucket}/{Root}";

        public string AgentBuilds => $"s3://{Bucket}/{AgentBuildsPrefix}";

        public static async Task<FleetResources> ReadAsync(CloudFormationStacks stacks, string stack, CancellationToken cancellationToken)
        {
            var description = await stacks.DescribeAsync(stack, cancellationToken)
                ?? throw new AwsCliException($"the stack {stack} is not there after its deploy", 1);
            var resources = await stacks.ResourcesAsync(stack, cancellationToken);
            string Resource(string id) => resources.GetValueOrDefault(id) is { Length: > 0 } value
                ? value
                : throw new AwsCliException($"the stack {stack} has no resource {id}: it was not made from this spotdevbox's fleet.yaml; give another --stack", 1);
            string Parameter(string key) => description.Parameters.GetValueOrDefault(key) is { Length: > 0 } value
                ? value
                : throw new AwsCliException($"the stack {stack} has no parameter {key}: it was not made from this spotdevbox's fleet.yaml; give another --stack", 1);
            return new FleetResources(
                Resource("Bucket"),
                Parameter("Root"),
                Parameter("AgentBuildsPrefix"),
                Resource("BoxSecurityGroup"),
                resources.GetValueOrDefault("PeoplePolicy"),
                resources.GetValueOrDefault("OperatorPolicy"),
                resources.GetValueOrDefault("InstanceConnectEndpoint"),
                description.Parameters.GetValueOrDefault("KmsKeyArn"),
                KeyArn(description.Id, resources.GetValueOrDefault("RepositoryKey")));
        }

        /// <summary>A key's ARN from its id (the resource's physical id) and the stack's ARN (its partition, region and account).</summary>
        private static string? KeyArn(string stackArn, string? keyId)
        {
            var parts = stackArn.Split(':');
            return keyId is not { Length: > 0 } || parts.Length < 6 ? null : $"arn:{parts[1]}:kms:{parts[3]}:{parts[4]}:key/{keyId}";
        }
    }
}
