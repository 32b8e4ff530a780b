using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Serilog.Core;
using Serilog.Events;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Commands;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox;

/// <summary>The command line: verbs, help, and the mapping of failures to documented exit codes.</summary>
internal static class SpotDevBoxApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args is ["--version"])
        {
            // Before the configuration is read, as for --help: it works when the configuration is what needs fixing.
            Console.Out.WriteLine(VersionLine(typeof(SpotDevBoxApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion));
            return ExitCodes.Ok;
        }

        var help = IsHelp(args);
        // Which host the verb needs, from the settings the parser binds (help needs none but the common one).
        var verbHost = help ? VerbHost.Cli : HostOf(args);
        // On macOS and Windows the box's verbs refuse before anything is read (PlatformVerbs); their --help still shows.
        if (!help && PlatformVerbs.OtherSystem(Environment.GetEnvironmentVariable) is { } system
            && RegisteredVerbs().PathOf(args) is { } verb && PlatformVerbs.Refusal(verb, system) is { } refusal)
        {
            Console.Error.WriteLine("spotdevbox: " + refusal);
            return ExitCodes.InvalidInput;
        }

        var consoleLevel = new LoggingLevelSwitch(LogEventLevel.Warning);
        HostApplicationBuilder builder;
        LogFile logFile;
        try
        {
            builder = SpotDevBoxHost.CreateBuilder(args, consoleLevel, out logFile, readConfiguration: !help);
        }
        catch (Exception e)
        {
            // The configuration could not be read, so neither could where the log goes (or whether it is off).
            return Report(e, cancelled: false, configuration: null);
        }

        // --verbose (and the services, which always show their informational lines) says where the log file is, once.
        var logShown = false;
        consoleLevel.MinimumLevelChanged += (_, e) =>
        {
            if (!logShown && e.NewLevel <= LogEventLevel.Information && logFile.Describe() is { } where)
            {
                logShown = true;
                Console.Error.WriteLine("log: " + where);
            }
        };

        try
        {
            if (verbHost == VerbHost.Agent)
            {
                // Only the agent validates and runs the agent's services; the other verbs never start them.
                Agent.AgentRegistration.AddSpotDevBoxAgent(builder.Services, builder.Configuration);
            }
            else if (verbHost == VerbHost.Controller)
            {
                Controller.ControllerRegistration.AddSpotDevBoxController(builder.Services, builder.Configuration);
            }
        }
        catch (Exception e)
        {
            // Both read a few intervals while they register (Quartz's triggers): a value of the wrong type stops here.
            return Report(e, cancelled: false, builder.Configuration, new FailureContext(logFile, null, args));
        }

        // up, status and down resolve these only when they run; nothing is read or validated before.
        Controller.ControllerRegistration.AddSpotDevBoxControllerCore(builder.Services, builder.Configuration);
        builder.Services.AddSpotDevBoxCommands();

        var registrar = new TypeRegistrar(builder, validate: !help);
        var app = CreateApp(registrar);
        var verbs = new VerbTable();
        app.Configure(config => Configure(config, verbs));

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            cancel.Cancel();
        });
        var stderr = Console.Error;
        var recorder = new ErrorLineRecorder(stderr);
        Console.SetError(recorder);
        try
        {
            if (!help && verbs.DescribeMissingCommand(args) is { } missing)
            {
                // The parser would print the branch's whole help and fail without saying why.
                Console.Error.WriteLine("spotdevbox: " + missing);
                return ExitCodes.InvalidInput;
            }

            var code = await app.RunAsync(args, cancel.Token);
            code = code < 0 ? ExitCodes.InvalidInput : code;

            if (code is ExitCodes.Failure or ExitCodes.InvalidInput && !help)
            {
                // A verb that ended with a code of its own said why on its last "spotdevbox: ..." line: that line is
                // the failure in the log, and the terminal learns where the log is, as after an exception.
                var why = recorder.LastErrorLine ?? $"exit code {code}";
                if (FailureLog.Write(logFile, registrar.Host?.Services, args, code, why, exception: null) is { } file)
                {
                    Console.Error.WriteLine("spotdevbox: details in " + file);
                }
            }

            return code;
        }
        catch (CommandParseException) when (verbs.DescribeUnknown(args) is { } unknown)
        {
            Console.Error.WriteLine("spotdevbox: " + unknown);
            return ExitCodes.InvalidInput;
        }
        catch (Exception e)
        {
            return Report(e, cancel.IsCancellationRequested, builder.Configuration, new FailureContext(logFile, registrar.Host?.Services, args));
        }
        finally
        {
            Console.SetError(stderr);
            Console.CancelKeyPress -= onCancel;
            await Serilog.Log.CloseAndFlushAsync();
            if (registrar.Host is { } host)
            {
                host.Dispose();
            }
        }
    }

    /// <summary>
    /// The verbs. Every example must run as printed when pasted into a shell (ShellHelpProvider quotes and continues
    /// them); those that need no AWS account are run by the tests (HelpExamplesTests).
    /// </summary>
    private static void Configure(IConfigurator config, VerbTable verbs)
    {
        config.SetApplicationName("spotdevbox");
        config.SetHelpProvider(new ShellHelpProvider(config.Settings));
        config.PropagateExceptions();
        config.UseStrictParsing();
        config.ValidateExamples();
        verbs.Add<InitCommand>(config, "init")
            .WithExample("init", "--repo", "s3://my-bucket/boxes/alice")
            .WithExample("init", "--repo", "./demo-repo")
            .WithExample("init", "--repo", "s3://my-bucket/boxes/alice/dev/repo", "--history-days", "60");
        verbs.Add<BackupCommand>(config, "backup")
            .WithExample("backup", "--repo", "s3://my-bucket/boxes/alice", "/home/alice/work", "--exclude", "node_modules/")
            .WithExample("backup", "--repo", "./demo-repo", "--init", "src", "--exclude", "*.o", "--tag", "before-upgrade");
        verbs.Add<RestoreCommand>(config, "restore")
            .WithExample("restore", "--repo", "s3://my-bucket/boxes/alice", "--target", "/home/alice")
            .WithExample("restore", "--repo", "./demo-repo", "--snapshot", "latest", "--target", "./restored", "--include", "src/**/*.cs");
        verbs.Add<SnapshotsCommand>(config, "snapshots")
            .WithExample("snapshots", "--repo", "./demo-repo")
            .WithExample("snapshots", "--repo", "./demo-repo", "--json");
        verbs.Add<ForgetCommand>(config, "forget")
            .WithExample("forget", "--repo", "s3://my-bucket/boxes/alice", "--keep-last", "24", "--keep-daily", "7", "--keep-weekly", "4", "--prune")
            .WithExample("forget", "--repo", "./demo-repo", "--keep-last", "1", "--dry-run", "--json")
            .WithExample("forget", "--repo", "./demo-repo", "--keep-within", "30d", "--keep-last", "5", "--dry-run");
        verbs.Add<PruneCommand>(config, "prune")
            .WithExample("prune", "--repo", "./demo-repo", "--dry-run");
        verbs.Add<CheckCommand>(config, "check")
            .WithExample("check", "--repo", "s3://my-bucket/boxes/alice", "--read-data")
            .WithExample("check", "--repo", "./demo-repo", "--read-data", "--json");
        verbs.Add<MigrateCommand>(config, "migrate")
            .WithExample("migrate", "--repo", "./old-repo")
            .WithExample("migrate", "--repo", "s3://my-bucket/boxes/alice/dev/repo", "--box", "alice/dev");
        verbs.Add<UnlockCommand>(config, "unlock")
            .WithExample("unlock", "--repo", "./demo-repo");
        verbs.Add<RecoverCommand>(config, "recover")
            .WithExample("recover", "--repo", "s3://my-bucket/boxes/alice/dev/repo", "--as-of", "2026-12-01T09:30:00Z", "--dry-run")
            .WithExample("recover", "--repo", "s3://my-bucket/boxes/alice/dev/repo", "--as-of", "2026-12-01T10:30:00+01:00");
        verbs.Branch("key");
        config.AddBranch("key", key =>
        {
            key.SetDescription("An encrypted repository's keys, the wrapped copies of its master key (docs/backup.md, \"Keys\"): list, add, remove, change a passphrase. Removing a key does not revoke a master key already unwrapped.");
            verbs.Add<KeyListCommand>(key, "key", "list")
                .WithExample("key", "list", "--repo", "./demo-repo")
                .WithExample("key", "list", "--repo", "s3://my-bucket/boxes/alice/dev/repo", "--json");
            verbs.Add<KeyAddCommand>(key, "key", "add")
                .WithExample("key", "add", "--repo", "./demo-repo", "--new-password-file", "new-pass.txt", "--label", "alice@laptop")
                .WithExample("key", "add", "--repo", "s3://my-bucket/boxes/alice/dev/repo", "--to-kms-key", "alias/spotdevbox", "--to-box", "alice/dev");
            verbs.Add<KeyRemoveCommand>(key, "key", "remove")
                .WithExample("key", "remove", "0a1b2c3d", "--repo", "./demo-repo", "--password-file", "new-pass.txt");
            verbs.Add<KeyPasswdCommand>(key, "key", "passwd")
                .WithExample("key", "passwd", "--repo", "./demo-repo", "--new-password-file", "new-pass.txt");
        });
        verbs.Branch("agent");
        config.AddBranch("agent", agent =>
        {
            agent.SetDescription("The on-box agent (a systemd service; see deploy/systemd), and the builds of it that boxes install.");
            verbs.Add<AgentRunCommand>(agent, "agent", "run");
            verbs.Add<AgentPublishCommand>(agent, "agent", "publish")
                .WithExample("agent", "publish", "--to", "s3://my-bucket/spotdevbox/agent", "--agent-archive", "spotdevbox-1.0.0-linux-x64.tar.gz", "--agent-archive", "spotdevbox-1.0.0-linux-arm64.tar.gz")
                .WithExample("agent", "publish", "--to", "s3://my-bucket/agent", "--build", "linux-x64=spotdevbox-linux-x64.tar.gz", "--build", "linux-arm64=spotdevbox-linux-arm64.tar.gz");
        });
        verbs.Branch("controller");
        config.AddBranch("controller", controller =>
        {
            controller.SetDescription("The controller: schedules, launches, reconcile and relaunch (a worker service; see docs/controller.md).");
            verbs.Add<ControllerRunCommand>(controller, "controller", "run");
            verbs.Add<ControllerStatusCommand>(controller, "controller", "status")
                .WithExample("controller", "status")
                .WithExample("controller", "status", "--json");
        });
        verbs.Branch("savings", typeof(SavingsReportCommand));
        config.AddBranch("savings", savings =>
        {
            savings.SetDescription(
                "What the boxes cost and saved (docs/savings.md). Without a command, the report: savings [[--from T]] [[--to T]] [[--box B]] [[--owner O]] " +
                "[[--by day|week|month|box|owner]] [[--tz ZONE]] [[--format table|csv|json|html]] [[--json]] [[--output FILE]]; reconcile checks the ledger against the bill.");
            // Spectre.Console.Cli rejects a branch's examples that use its default command's options, and its help lists
            // only the branch's own: the report's options are in the description (markup, so brackets are doubled).
            savings.SetDefaultCommand<SavingsReportCommand>();
            verbs.Add<SavingsReconcileCommand>(savings, "savings", "reconcile")
                .WithExample("savings", "reconcile", "--feed", "s3://my-bucket/spot-feed")
                .WithExample("savings", "reconcile", "--feed", "s3://my-bucket/spot-feed", "--from", "2026-11-01", "--to", "2026-12-01", "--box", "alice", "--format", "csv");
        });
        verbs.Branch("storage");
        config.AddBranch("storage", storage =>
        {
            storage.SetDescription("The boxes' storage in S3: move a box's prefix into the layout s3://BUCKET/ROOT/OWNER/BOX (docs/security.md, \"S3 layout and migration\").");
            verbs.Add<StorageMigrateCommand>(storage, "storage", "migrate")
                .WithExample("storage", "migrate", "s3://my-bucket/boxes/alice", "s3://my-bucket/boxes/alice/alice", "--dry-run")
                .WithExample("storage", "migrate", "s3://my-bucket/boxes/alice", "s3://my-bucket/boxes/alice/alice");
        });
        verbs.Add<SetupCommand>(config, "setup")
            .WithExample("setup", "--region", "eu-central-1")
            .WithExample("setup", "--region", "eu-central-1", "--agent-archive", "spotdevbox-1.0.0-linux-x64.tar.gz", "--print")
            .WithExample("setup", "--region", "eu-central-1", "--ssh-via", "direct", "--ssh-from", "my-ip")
            .WithExample("setup", "--import");
        verbs.Branch("box");
        config.AddBranch("box", box =>
        {
            box.SetDescription("The boxes of the fleet 'spotdevbox setup' deployed: make one (its role, instance profile and configuration), or remove it (docs/setup.md).");
            verbs.Add<BoxAddCommand>(box, "box", "add")
                .WithExample("box", "add", "alice", "--owner", "alice")
                .WithExample("box", "add", "alice-gpu", "--owner", "alice", "--type", "g5.xlarge", "--schedule", "Mon-Fri 09:00-18:00", "--tz", "Europe/Berlin", "--budget", "150")
                .WithExample("box", "add", "bob", "--owner", "bob", "--print");
            verbs.Add<BoxRemoveCommand>(box, "box", "remove")
                .WithExample("box", "remove", "alice")
                .WithExample("box", "remove", "alice", "--delete-repository");
        });
        verbs.Add<UpCommand>(config, "up")
            .WithExample("up", "alice")
            .WithExample("up", "alice", "--for", "3h");
        verbs.Add<DownCommand>(config, "down")
            .WithExample("down", "alice")
            .WithExample("down", "alice", "--until", "monday", "--note", "done for today")
            .WithExample("down", "s3://my-bucket/boxes/alice/alice");
        verbs.Add<ScheduleCommand>(config, "schedule")
            .WithExample("schedule", "alice", "--next", "7d", "--json")
            .WithExample("schedule", "alice", "--next", "3d", "--from", "2027-01-04T10:00:00+01:00");
        verbs.Add<StatusCommand>(config, "status")
            .WithExample("status")
            .WithExample("status", "alice")
            .WithExample("status", "s3://my-bucket/boxes/alice/alice", "--json");
        verbs.Add<KeepaliveCommand>(config, "keepalive")
            .WithExample("keepalive", "2h", "--note", "training run")
            .WithExample("keepalive", "--cancel", "--json")
            .WithExample("keepalive", "alice", "90m")
            .WithExample("keepalive", "s3://my-bucket/boxes/alice/alice", "--cancel");
        verbs.Add<SshConfigCommand>(config, "ssh-config")
            .WithExample("ssh-config")
            .WithExample("ssh-config", "alice")
            .WithExample("ssh-config", "--known-hosts", "/home/alice/.ssh/work_known_hosts");
        verbs.Add<EstimateCommand>(config, "estimate")
            .WithExample("estimate", "--region", "us-east-1", "--type", "m7i.large", "--schedule", "Mon-Fri 09:00-18:00", "--tz", "Europe/Berlin")
            .WithExample("estimate", "--region", "us-east-1", "--type", "m7i.large", "--schedule", "Mon-Fri 08:30-19:00", "--tz", "America/New_York", "--idle-hours-per-day", "1.5", "--json")
            .WithExample("estimate", "--region", "eu-central-1", "--type", "c7g.xlarge", "--live");
        verbs.Branch("prices");
        config.AddBranch("prices", prices =>
        {
            prices.SetDescription("The price tables behind estimate and the savings figures: shipped in config/prices, refreshed per region, overridden in Prices:* settings (docs/savings.md).");
            verbs.Add<PricesRefreshCommand>(prices, "prices", "refresh")
                .WithExample("prices", "refresh", "--region", "eu-central-1")
                .WithExample("prices", "refresh", "--region", "eu-west-3", "--offer", "./index.csv", "--json");
        });
        verbs.Add<SshCommand>(config, "ssh")
            .WithExample("ssh", "alice")
            .WithExample("ssh", "alice", "--", "-L", "8080:localhost:8080")
            .WithExample("ssh", "alice", "--", "uptime");
    }

    /// <summary>"spotdevbox 1.0.0 (commit 3f2a1b9c0d4e)": the build records the commit after a '+' (SourceLink); "unknown" outside git.</summary>
    internal static string VersionLine(string? informational)
    {
        var text = informational ?? "0.0.0";
        var plus = text.IndexOf('+', StringComparison.Ordinal);
        var version = plus >= 0 ? text[..plus] : text;
        var commit = plus >= 0 && text[(plus + 1)..] is { Length: > 0 } sha ? (sha.Length > 12 ? sha[..12] : sha) : "unknown";
        return $"spotdevbox {version} (commit {commit})";
    }

    [UnconditionalSuppressMessage(
        "AOT",
        "IL3050",
        Justification = "Spectre.Console.Cli models the verbs by reflection over the command and settings types (constructors, properties, "
            + "attributes, string[] options). The native AOT build roots the spotdevbox and Spectre.Console.Cli assemblies whole "
            + "(SpotDevBox.csproj), so that metadata is compiled in; the process-level tests run every verb against that build.")]
    private static CommandApp CreateApp(TypeRegistrar? registrar) => new(registrar);

    /// <summary>The verbs as registered, without a host: configuring an app only records them.</summary>
    internal static VerbTable RegisteredVerbs()
    {
        var verbs = new VerbTable();
        CreateApp(null).Configure(config => Configure(config, verbs));
        return verbs;
    }

    /// <summary>
    /// The host the verb needs (<see cref="IVerbHostSettings"/>), as the parser sees the arguments: the same verbs,
    /// parsed without a host and with no output, stopped once the parser has bound the verb's settings, before any
    /// command is made. Arguments that do not parse, or ask for help, need the common host: the real run says why.
    /// </summary>
    internal static VerbHost HostOf(string[] args)
    {
        var seen = new SettingsSeen();
        var app = CreateApp(null);
        app.Configure(config =>
        {
            Configure(config, new VerbTable());
            config.ConfigureConsole(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }));
            config.SetInterceptor(seen);
        });
        try
        {
            app.Run(args);
        }
        catch (SettingsSeen.Stop)
        {
            // The settings are bound: that is all this parse is for.
        }
#pragma warning disable CA1031 // Whatever stops this parse (a wrong option, a validation) stops the real run too, which reports it.
        catch (Exception)
#pragma warning restore CA1031
        {
            return VerbHost.Cli;
        }

        return seen.Settings is IVerbHostSettings hosted ? hosted.Host : VerbHost.Cli;
    }

    /// <summary>Notes the settings the parser bound and stops the run before the command is made.</summary>
    private sealed class SettingsSeen : ICommandInterceptor
    {
        public CommandSettings? Settings { get; private set; }

        public void Intercept(CommandContext context, CommandSettings settings)
        {
            Settings = settings;
            throw new Stop();
        }

        public void InterceptResult(CommandContext context, CommandSettings settings, ref int result)
        {
        }

#pragma warning disable CA1064, CA1032 // Private: never leaves HostOf.
        internal sealed class Stop : Exception;
#pragma warning restore CA1064, CA1032
    }

    /// <summary>
    /// --help (-h, -?) anywhere before "--" (after it, the arguments are another program's, as in ssh): help is
    /// shown without reading the configuration, so it works when the configuration is what needs fixing.
    /// </summary>
    private static bool IsHelp(string[] args) => args.TakeWhile(a => a != "--").Any(a => a is "-h" or "--help" or "-?");

    /// <summary>Where a failure is logged: the log file, the host's services (its logger) once built, and the command line.</summary>
    private sealed record FailureContext(LogFile LogFile, IServiceProvider? Services, string[] Args);

    private static int Report(Exception e, bool cancelled, Microsoft.Extensions.Configuration.IConfiguration? configuration, FailureContext? log = null)
    {
        var (code, message) = e switch
        {
            InvalidConfigurationException => (ExitCodes.InvalidInput, "invalid configuration: " + e.Message),
            // Before the other arms: the binder's message (wrapped or not) quotes the value, which may be a secret.
            _ when ConfigurationFiles.DescribeConversionFailure(e, configuration) is { } conversion => (ExitCodes.InvalidInput, conversion),
            CommandParseException or CommandRuntimeException => (ExitCodes.InvalidInput, e.Message),
            OptionsValidationException v => (ExitCodes.InvalidInput, "invalid configuration: " + string.Join("; ", v.Failures)),
            InvalidOperationException { InnerException: OptionsValidationException v } => (ExitCodes.InvalidInput, "invalid configuration: " + string.Join("; ", v.Failures)),
            AggregateException { InnerExceptions: [OptionsValidationException v] } => (ExitCodes.InvalidInput, "invalid configuration: " + string.Join("; ", v.Failures)),
            AggregateException a when a.InnerExceptions.All(i => i is OptionsValidationException) =>
                (ExitCodes.InvalidInput, "invalid configuration: " + string.Join("; ", a.InnerExceptions.OfType<OptionsValidationException>().SelectMany(v => v.Failures))),
            // The binder names a setting that no option has (a typo, or a setting of an older version).
            InvalidOperationException i when i.Message.Contains("ErrorOnUnknownConfiguration", StringComparison.Ordinal) =>
                (ExitCodes.InvalidInput, "invalid configuration: " + ConfigurationFiles.DescribeUnknownSettings(i.Message, configuration)),
            SpotDevBox.Deploy.AwsCliMissingException => (ExitCodes.InvalidInput, e.Message),
            SpotDevBox.Deploy.AwsCliException => (ExitCodes.Failure, e.Message),
            ArgumentException or FormatException => (ExitCodes.InvalidInput, e.Message),
            SpotDevBox.Core.Savings.OfferFormatException => (ExitCodes.InvalidInput, e.Message + "; nothing was written"),
            SpotDevBox.Core.Compute.ComputeException => (ExitCodes.Failure, e.Message),
            // No agent build published (the likeliest first mistake), or none for the image's architecture: the
            // message says what to run. A manifest that could not be read for another reason (S3 unreachable) is
            // a run-time failure; one that is missing, refused or malformed is the setup's, and nothing was launched.
            SpotDevBox.Core.Boxes.AgentBuildException { InnerException: StorageException { Failure: not (StorageFailure.NotFound or StorageFailure.AccessDenied or StorageFailure.ContainerMissing) } } =>
                (ExitCodes.Failure, e.Message),
            SpotDevBox.Core.Boxes.AgentBuildException or SpotDevBox.Core.Boxes.UserDataException => (ExitCodes.InvalidInput, e.Message),
            StorageException { Failure: StorageFailure.ContainerMissing } => (ExitCodes.InvalidInput, e.Message),
            StorageException => (ExitCodes.Failure, e.Message),
            // No repository where one was named, one already where init was to create it, no snapshot by that id.
            RepositoryException { Problem: not (RepositoryProblem.RunTime or RepositoryProblem.Unreadable) } => (ExitCodes.InvalidInput, e.Message),
            SpotDevBox.Repositories.PasswordSourceException p => (p.ExitCode, p.Message),
            SpotDevBox.Backup.Keys.KeyRingException => (ExitCodes.InvalidInput, e.Message),
            RepositoryException => (ExitCodes.Failure, e.Message),
            OperationCanceledException when cancelled => (ExitCodes.Interrupted, "interrupted; earlier snapshots are untouched and what was uploaded is reused next time"),
            InvalidDataException or IOException or UnauthorizedAccessException => (ExitCodes.Failure, e.Message),
            // Unexpected: the stack trace goes to the log file; with the file off, to the terminal as before.
            _ => (ExitCodes.Failure, log?.LogFile.PathPattern is null ? e.ToString() : $"{e.GetType().Name}: {e.Message}"),
        };
        message = ConfigurationFiles.NameSources(message, configuration);
        // One plain line: scripts grep it, and a terminal-width wrap would split it.
        Console.Error.WriteLine("spotdevbox: " + message.ReplaceLineEndings(" "));
        if (log is not null && FailureLog.Write(log.LogFile, log.Services, log.Args, code, message, e) is { } file)
        {
            Console.Error.WriteLine("spotdevbox: details in " + file);
        }

        return code;
    }
}
