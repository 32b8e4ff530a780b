using System.Globalization;

namespace SpotDevBox.Core.Idle;

/// <summary>
/// NVIDIA GPUs through nvidia-smi: a training run can keep a GPU busy while the CPU idles. A box without
/// nvidia-smi reports the signal unavailable, and nvidia-smi is not looked for again.
/// </summary>
public sealed class GpuSignal(GpuSignalOptions options, ICommandRunner runner) : IIdleSignal
{
    private static readonly string[] Arguments = ["--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"];
    private bool _missing;

    public string Name => "gpu";

    public bool Enabled => options.Enabled;

    public async ValueTask<SignalReading> SampleAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_missing)
        {
            return SignalReading.Unavailable(Name, $"{options.Command} not found; GPUs not watched");
        }

        var result = await runner.RunAsync(options.Command, Arguments, options.CommandTimeout, cancellationToken);
        switch (result.Outcome)
        {
            case CommandOutcome.NotFound:
                _missing = true;
                return SignalReading.Unavailable(Name, $"{options.Command} not found; GPUs not watched");
            case CommandOutcome.TimedOut:
                return SignalReading.Unavailable(Name, $"{options.Command} did not answer within {options.CommandTimeout}");
            case CommandOutcome.Exited when result.ExitCode != 0:
                return SignalReading.Unavailable(Name, $"{options.Command} failed with exit code {result.ExitCode}: {FirstLine(result.StandardError, result.StandardOutput)}");
        }

        var busy = new List<string>();
        var quiet = new List<string>();
        var index = 0;
        foreach (var line in result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // One line per GPU; "[N/A]" or "[Not Supported]" where a GPU cannot report utilisation.
            if (int.TryParse(line, NumberStyles.Integer, CultureInfo.InvariantCulture, out var percent))
            {
                (percent >= options.MinUtilizationPercent ? busy : quiet).Add($"GPU {index} at {percent}%");
            }

            index++;
        }

        if (busy.Count > 0)
        {
            return SignalReading.ActiveBecause(Name, Text.Join(busy));
        }

        return quiet.Count > 0
            ? SignalReading.Inactive(Name, $"{Text.Join(quiet)}, below {options.MinUtilizationPercent}%")
            : SignalReading.Unavailable(Name, $"{options.Command} reported no GPU utilisation");
    }

    private static string FirstLine(params string[] texts) =>
        texts.SelectMany(t => t.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).FirstOrDefault() ?? "no output";
}
