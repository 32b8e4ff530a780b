using System.ComponentModel;
using System.Diagnostics;

namespace SpotDevBox.Core.Idle;

/// <summary>Runs a short external command (nvidia-smi); a port so tests can answer for it.</summary>
public interface ICommandRunner
{
    Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken);
}

public enum CommandOutcome
{
    Exited,
    NotFound,
    TimedOut,
}

public sealed record CommandResult(CommandOutcome Outcome, int ExitCode, string StandardOutput, string StandardError)
{
    public static CommandResult NotFound { get; } = new(CommandOutcome.NotFound, -1, "", "");

    public static CommandResult TimedOut { get; } = new(CommandOutcome.TimedOut, -1, "", "");

    public static CommandResult Exit(int exitCode, string standardOutput, string standardError = "") =>
        new(CommandOutcome.Exited, exitCode, standardOutput, standardError);
}

/// <summary>Starts the command as a child process and collects its output.</summary>
public sealed class ProcessCommandRunner : ICommandRunner
{
    public async Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception)
        {
            // The only decision here: a command that cannot be started is a command this box does not have.
            return CommandResult.NotFound;
        }

        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return CommandResult.TimedOut;
        }

        return CommandResult.Exit(process.ExitCode, await stdout, await stderr);
    }
}
