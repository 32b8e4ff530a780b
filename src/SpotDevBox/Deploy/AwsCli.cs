using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace SpotDevBox.Deploy;

/// <summary>Aws:Cli: how the deploying verbs run the AWS CLI.</summary>
internal sealed class AwsCliOptions
{
    public const string SectionName = "Aws:Cli";

    /// <summary>An endpoint passed to every command as --endpoint-url: for tests and private endpoints. Empty: AWS itself.</summary>
    public string EndpointUrl { get; set; } = "";
}

internal sealed class AwsCliOptionsValidator : IValidateOptions<AwsCliOptions>
{
    public ValidateOptionsResult Validate(string? name, AwsCliOptions options) =>
        string.IsNullOrWhiteSpace(options.EndpointUrl)
        || (Uri.TryCreate(options.EndpointUrl.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{AwsCliOptions.SectionName}:EndpointUrl must be an http(s) URL (the value is not printed: a URL may carry a secret)");
}

/// <summary>What a command printed and how it ended.</summary>
internal sealed record AwsCliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>The AWS CLI is missing or too old (exit 2: install v2); nothing was changed.</summary>
internal sealed class AwsCliMissingException(string message) : Exception(message);

/// <summary>A command the AWS CLI refused or failed (exit 1); the message is the CLI's last error line.</summary>
internal sealed class AwsCliException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Starts a program with an argument list (never a shell) and collects its output: the seam unit tests replace.</summary>
internal interface IProcessRunner
{
    /// <summary>The full path of <paramref name="program"/> found on PATH, or null.</summary>
    string? Find(string program);

    Task<AwsCliResult> RunAsync(string file, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken);
}

internal sealed class ProcessRunner : IProcessRunner
{
    public string? Find(string program)
    {
        var names = OperatingSystem.IsWindows() ? new[] { program + ".exe", program + ".cmd" } : [program];
        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(Path.IsPathFullyQualified)
            .SelectMany(d => names.Select(n => Path.Combine(d, n)))
            .FirstOrDefault(File.Exists);
    }

    public async Task<AwsCliResult> RunAsync(string file, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new AwsCliMissingException($"{file} did not start");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new AwsCliResult(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>The AWS CLI in one region, as the deploying verbs use it.</summary>
internal interface IAwsCli
{
    string Region { get; }

    /// <summary>The whole command line <see cref="RunAsync"/> runs for <paramref name="arguments"/> ("aws", then the arguments, --region ...).</summary>
    IReadOnlyList<string> Command(IReadOnlyList<string> arguments);

    /// <summary>Runs one command; a non-zero exit is returned, not thrown.</summary>
    Task<AwsCliResult> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken);

    /// <summary>Runs one command and parses its output (null for none); a failure throws <see cref="AwsCliException"/>.</summary>
    Task<JsonNode?> JsonAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken);
}

/// <summary>
/// The AWS CLI v2, found on PATH, run with an argument list: --region always explicit, --output json, no pager, and
/// Aws:Cli:EndpointUrl as --endpoint-url when set. Credentials are the CLI's own (profile, SSO, environment).
/// </summary>
internal sealed class AwsCli(string region, string? endpointUrl, IProcessRunner runner) : IAwsCli
{
    public const string InstallUrl = "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html";

    private string? _file;

    public string Region { get; } = region;

    public IReadOnlyList<string> Command(IReadOnlyList<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        List<string> command = ["aws", .. arguments, "--region", Region, "--output", "json"];
        if (!string.IsNullOrWhiteSpace(endpointUrl))
        {
            command.AddRange(["--endpoint-url", endpointUrl.Trim()]);
        }

        return command;
    }

    public async Task<AwsCliResult> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var file = await FindAsync(cancellationToken);
        return await runner.RunAsync(file, [.. Command(arguments).Skip(1)], Environment, cancellationToken);
    }

    public async Task<JsonNode?> JsonAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await RunAsync(arguments, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new AwsCliException(ErrorLine(result), result.ExitCode);
        }

        if (string.IsNullOrWhiteSpace(result.Stdout))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(result.Stdout);
        }
        catch (JsonException)
        {
            throw new AwsCliException($"'aws {string.Join(' ', arguments.Take(2))}' printed something that is not JSON", result.ExitCode);
        }
    }

    /// <summary>The CLI's last error line ("An error occurred (ValidationError) when calling ..."), else its last line of output, else its exit code.</summary>
    public static string ErrorLine(AwsCliResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.LastOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase))
            ?? lines.LastOrDefault()
            ?? result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()
            ?? $"the AWS CLI exited with {result.ExitCode}";
    }

    /// <summary>A command as one POSIX shell line: each word that needs it in single quotes (for --print).</summary>
    public static string Render(IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        return string.Join(' ', arguments.Select(Quote));
    }

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@%+".Contains(c, StringComparison.Ordinal))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static readonly IReadOnlyDictionary<string, string> Environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["AWS_PAGER"] = "" };

    private async Task<string> FindAsync(CancellationToken cancellationToken)
    {
        if (_file is not null)
        {
            return _file;
        }

        var need = $"the AWS CLI v2 is needed to deploy (the 'aws' command, on PATH); install it: {InstallUrl}";
        var file = runner.Find("aws") ?? throw new AwsCliMissingException(need);
        var version = await runner.RunAsync(file, ["--version"], Environment, cancellationToken);
        var said = (version.Stdout + " " + version.Stderr).Trim();
        if (version.ExitCode != 0 || !said.StartsWith("aws-cli/", StringComparison.Ordinal))
        {
            throw new AwsCliMissingException($"{need} ('aws --version' did not answer as the AWS CLI does)");
        }

        if (!said.StartsWith("aws-cli/2.", StringComparison.Ordinal))
        {
            throw new AwsCliMissingException($"{need} (this one is {said.Split(' ')[0]})");
        }

        _file = file;
        return file;
    }
}

/// <summary>Makes the <see cref="IAwsCli"/> of a region; a test puts in its own.</summary>
internal interface IAwsCliFactory
{
    IAwsCli For(string region);
}

internal sealed class AwsCliFactory(IOptions<AwsCliOptions> options, IProcessRunner runner) : IAwsCliFactory
{
    public IAwsCli For(string region) => new AwsCli(region, options.Value.EndpointUrl, runner);
}
