using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SpotDevBox.Core.Tests.Savings;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// Every example that --help prints runs as printed: each verb's and branch's help (found by walking the COMMANDS
/// sections from the root) is read at 80 columns, each example is split by bash as a pasted line would be, and the
/// words must parse (--help appended exits 0). The examples that need no AWS account then run for real, in order, in a
/// folder set up for them.
/// </summary>
public sealed partial class HelpExamplesTests(HelpTextsFixture texts) : IDisposable, IClassFixture<HelpTextsFixture>
{
    private readonly TempDir _temp = new("spotdevbox-examples-");

    private SpotDevBoxProcess Cli() => new SpotDevBoxProcess(_temp.Sub("state")).Set("COLUMNS", "80");

    /// <summary>The help of the root and of every verb and branch under it, by path ("", "savings", "savings reconcile").</summary>
    internal static async Task<SortedDictionary<string, string>> AllHelpAsync(SpotDevBoxProcess cli)
    {
        var helps = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var queue = new Queue<string>([""]);
        while (queue.Count > 0)
        {
            var path = queue.Dequeue();
            var args = path.Length == 0 ? new[] { "--help" } : [.. path.Split(' '), "--help"];
            var result = await cli.RunAsync(args);
            Assert.True(result.ExitCode == 0, $"spotdevbox {path} --help: {result}");
            helps[path] = result.Stdout;
            foreach (var command in Section(result.Stdout, "COMMANDS").Select(l => CommandName().Match(l)).Where(m => m.Success))
            {
                queue.Enqueue(path.Length == 0 ? command.Groups[1].Value : path + " " + command.Groups[1].Value);
            }
        }

        return helps;
    }

    /// <summary>The examples of one help text, each with its continuation lines joined as the shell joins them.</summary>
    private static List<string> Examples(string help)
    {
        var examples = new List<string>();
        var current = new StringBuilder();
        foreach (var line in Section(help, "EXAMPLES"))
        {
            current.Append(current.Length == 0 ? line.Trim() : "\n" + line);
            if (!line.EndsWith('\\'))
            {
                examples.Add(current.ToString());
                current.Clear();
            }
        }

        Assert.True(current.Length == 0, $"an example ends with a continuation: {current}");
        return examples;
    }

    internal static IEnumerable<string> Section(string help, string name) =>
        help.Split('\n').SkipWhile(l => l != name + ":").Skip(1).TakeWhile(l => l.Trim().Length > 0);

    /// <summary>The words bash passes to spotdevbox for <paramref name="example"/>, pasted as printed (an unquoted glob that matches nothing fails).</summary>
    private static async Task<string[]> ShellWordsAsync(string example)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("set -e; shopt -s failglob; spotdevbox() { printf '%s\\0' \"$@\"; }\n" + example);
        using var bash = Process.Start(start)!;
        var stdout = await bash.StandardOutput.ReadToEndAsync();
        var stderr = await bash.StandardError.ReadToEndAsync();
        await bash.WaitForExitAsync();
        Assert.True(bash.ExitCode == 0 && stderr.Length == 0, $"bash could not read '{example}': {stderr}");
        return stdout.Split('\0')[..^1];
    }

    [Fact]
    public async Task Help_EveryVerb_PrintsExamplesThatFitEightyColumns()
    {
        var helps = texts.Helps;

        // The walk reached the branches' commands, and the verbs with examples all have some.
        Assert.Contains("savings reconcile", helps.Keys);
        Assert.Contains("prices refresh", helps.Keys);
        Assert.Contains("agent publish", helps.Keys);
        foreach (var (path, help) in helps)
        {
            var lines = help.Split('\n');
            var start = Array.IndexOf(lines, "EXAMPLES:");
            foreach (var line in lines.Skip(start + 1).TakeWhile(l => start >= 0 && l.Trim().Length > 0))
            {
                Assert.True(line.Length <= 80, $"spotdevbox {path} --help: an example line is {line.Length} columns wide: '{line}'");
                Assert.True(line.StartsWith("    spotdevbox ", StringComparison.Ordinal) || line.StartsWith("        ", StringComparison.Ordinal), $"spotdevbox {path} --help: '{line}' is neither an example nor its continuation");
            }
        }
    }

    [Fact]
    public async Task Examples_PastedIntoAShell_ParseWithHelpAppended()
    {
        var helps = texts.Helps;
        var examples = helps.Values.SelectMany(Examples).Distinct(StringComparer.Ordinal).ToList();
        var cli = Cli();

        Assert.True(examples.Count >= 30, $"only {examples.Count} examples found");
        Assert.Contains(examples, e => e.Contains("'Mon-Fri 09:00-18:00'", StringComparison.Ordinal));
        Assert.Contains(examples, e => e.Contains("'src/**/*.cs'", StringComparison.Ordinal));
        var failures = new List<string>();
        foreach (var example in examples)
        {
            var words = await ShellWordsAsync(example);
            // "ssh alice -- uptime": after "--" the words are ssh's, so --help goes before it.
            var dash = Array.IndexOf(words, "--");
            string[] withHelp = dash < 0 ? [.. words, "--help"] : [.. words[..dash], "--help", .. words[dash..]];
            var result = await cli.RunAsync(withHelp);
            if (result.ExitCode != 0)
            {
                failures.Add($"{example}: {result}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>What an example needs an AWS account (or AWS's network) for: S3, EC2, or a box configured in S3.</summary>
    private static bool NeedsAws(string[] words) =>
        words.Any(w => w.Contains("s3://", StringComparison.Ordinal) || w == "--live")
        || words[0] is "up" or "down" or "status" or "ssh" or "ssh-config" or "agent" or "controller"
        // box add and remove: the AWS CLI (CloudFormation) and EC2; even --print asks EC2 for the types' architecture.
        || words[0] == "box"
        // setup: the AWS CLI (STS, CloudFormation), EC2 and S3; even --print looks at the account (SetupTests runs setup's paths on moto).
        || words[0] == "setup"
        // keepalive BOX: through the box's control document, in its S3 prefix.
        || (words[0] == "keepalive" && words.Contains("alice"))
        // Without --offer, the offer file is downloaded from AWS.
        || (words[0] == "prices" && !words.Contains("--offer"))
        // The key verbs need a second passphrase file and a key id of the repository: KeyCommandTests run them.
        || words[0] == "key";

    [Fact]
    public async Task Examples_ThatNeedNoAws_RunAsPrinted()
    {
        var helps = texts.Helps;
        // The root's help lists the first verbs' examples again: each runs once, in the order help shows them.
        var examples = new List<string>();
        var verbs = Section(helps[""], "COMMANDS").Select(l => CommandName().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        foreach (var path in helps.Keys.OrderBy(p => p.Length == 0 ? -1 : verbs.IndexOf(p.Split(' ')[0])))
        {
            examples.AddRange(Examples(helps[path]).Where(e => !examples.Contains(e)));
        }

        var work = _temp.Sub("work");
        Directory.CreateDirectory(Path.Combine(work, "src", "node_modules"));
        File.WriteAllText(Path.Combine(work, "src", "main.cs"), "class Main {}\n");
        File.WriteAllText(Path.Combine(work, "src", "main.o"), "object code\n");
        File.WriteAllText(Path.Combine(work, "src", "node_modules", "left-out.js"), "// left out\n");
        File.WriteAllText(Path.Combine(work, "index.csv"), OfferFixture.Csv);
        var config = _temp.Sub("config.json");
        File.WriteAllText(config, """
            { "Controller": { "AgentBuilds": "s3://my-bucket/agent", "Boxes": { "alice": { "Owner": "alice", "Region": "eu-central-1",
              "InstanceTypes": ["m7i.large"], "ImageId": "ami-0123456789abcdef0", "Storage": "s3://my-bucket/boxes/alice/alice", "User": "alice",
              "Schedule": { "TimeZone": "Europe/Berlin", "Periods": ["Mon-Fri 08:30-19:00"] } } } } }
            """);
        // migrate's example encrypts a repository made by a build before version 3 (this build makes only encrypted ones).
        await MigrateCommandTests.UnencryptedRepositoryAsync(Path.Combine(work, "old-repo"), _temp.Sub("old-work"), _temp.Sub("old-cache"));
        var cli = Cli().In(work).Set("SPOTDEVBOX_CONFIG", config).Set("SPOTDEVBOX_Agent__RunDirectory", _temp.Sub("run"));
        Directory.CreateDirectory(_temp.Sub("run"));
        // The on-box keepalive examples run as on a box: its agent's status file in Agent:RunDirectory.
        File.WriteAllText(Path.Combine(_temp.Sub("run"), "status.json"), "{}");

        var ran = new List<string>();
        foreach (var example in examples)
        {
            var words = await ShellWordsAsync(example);
            if (NeedsAws(words))
            {
                continue;
            }

            var result = await cli.RunAsync(words);
            Assert.True(result.ExitCode == 0, $"{example}: {result}");
            if (words.Contains("--json"))
            {
                using var json = JsonDocument.Parse(result.Stdout);
                Assert.True(json.RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.Array, $"{example}: {result.Stdout}");
            }

            ran.Add(words[0]);
        }

        // Each kind of example that needs no account is there to run.
        Assert.Equal(
            ["backup", "check", "estimate", "forget", "init", "keepalive", "migrate", "prices", "prune", "restore", "schedule", "snapshots", "unlock"],
            ran.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        // What the examples did is there: the restore of src/**/*.cs, without what backup left out.
        Assert.True(File.Exists(Path.Combine(work, "restored", "src", "main.cs")));
        Assert.False(File.Exists(Path.Combine(work, "restored", "src", "main.o")));
        // keepalive --cancel ran after keepalive 2h.
        Assert.False(File.Exists(Path.Combine(_temp.Sub("run"), "lease", "lease.json")));
    }

    public void Dispose() => _temp.Dispose();

    [GeneratedRegex(@"^    ([a-z][a-z-]*)\s")]
    internal static partial Regex CommandName();
}

/// <summary>
/// The help texts of <see cref="HelpExamplesTests"/>, walked once for its three tests (each walked them itself before:
/// some forty CLI runs each time, for the same texts).
/// </summary>
public sealed class HelpTextsFixture : IAsyncLifetime
{
    private readonly TempDir _temp = new("spotdevbox-help-");

    /// <summary>By path ("", "savings", "savings reconcile"), as printed at 80 columns.</summary>
    public IReadOnlyDictionary<string, string> Helps { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public async Task InitializeAsync() =>
        Helps = await HelpExamplesTests.AllHelpAsync(new SpotDevBoxProcess(_temp.Sub("state")).Set("COLUMNS", "80"));

    public Task DisposeAsync()
    {
        _temp.Dispose();
        return Task.CompletedTask;
    }
}
