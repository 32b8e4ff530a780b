using Microsoft.Extensions.Options;

namespace SpotDevBox.Core.Idle;

/// <summary>Names the setting, the limit and the value, so a bad config stops the agent with a useful line.</summary>
public sealed class IdleOptionsValidator : IValidateOptions<IdleOptions>
{
    public ValidateOptionsResult Validate(string? name, IdleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var s = IdleOptions.SectionName;
        Range(failures, $"{s}:IdleTimeout", options.IdleTimeout, TimeSpan.FromMinutes(1), TimeSpan.FromDays(7));
        Range(failures, $"{s}:SampleInterval", options.SampleInterval, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10));
        if (options.SampleInterval > options.IdleTimeout)
        {
            failures.Add($"{s}:SampleInterval must not be longer than {s}:IdleTimeout ({options.IdleTimeout}), got {options.SampleInterval}");
        }

        Range(failures, $"{s}:MaxScheduleOverrun", options.MaxScheduleOverrun, TimeSpan.Zero, TimeSpan.FromDays(1));
        Range(failures, $"{s}:FinalBackupRetryInterval", options.FinalBackupRetryInterval, TimeSpan.FromSeconds(30), TimeSpan.FromHours(1));
        if (options.MaxSessionLength is { } cap)
        {
            Range(failures, $"{s}:MaxSessionLength", cap, TimeSpan.FromMinutes(15), TimeSpan.FromDays(30));
        }

        if (options.WarnAt is { } warnAt)
        {
            for (var i = 0; i < warnAt.Count; i++)
            {
                if (warnAt[i] <= TimeSpan.Zero || warnAt[i] >= options.IdleTimeout)
                {
                    failures.Add($"{s}:WarnAt:{i} must be longer than 00:00:00 and shorter than {s}:IdleTimeout ({options.IdleTimeout}), got {warnAt[i]}");
                }
            }
        }

        if (string.IsNullOrWhiteSpace(options.PostponeCommand))
        {
            failures.Add($"{s}:PostponeCommand must not be empty, got \"{options.PostponeCommand}\"");
        }

        Range(failures, $"{s}:Sessions:InputWindow", options.Sessions.InputWindow, TimeSpan.FromSeconds(30), TimeSpan.FromDays(1));
        if (options.RemoteIde.MinIoBytes < 1)
        {
            failures.Add($"{s}:RemoteIde:MinIoBytes must be at least 1, got {options.RemoteIde.MinIoBytes}");
        }

        NonEmptyEntries(failures, $"{s}:RemoteIde:Patterns", options.RemoteIde.Patterns);
        if (!(options.Cpu.MinBusyCores > 0 && options.Cpu.MinBusyCores <= 1024))
        {
            failures.Add($"{s}:Cpu:MinBusyCores must be more than 0 and at most 1024, got {options.Cpu.MinBusyCores}");
        }

        if (options.Gpu.MinUtilizationPercent is < 1 or > 100)
        {
            failures.Add($"{s}:Gpu:MinUtilizationPercent must be between 1 and 100, got {options.Gpu.MinUtilizationPercent}");
        }

        if (string.IsNullOrWhiteSpace(options.Gpu.Command))
        {
            failures.Add($"{s}:Gpu:Command must not be empty, got \"{options.Gpu.Command}\"");
        }

        Range(failures, $"{s}:Gpu:CommandTimeout", options.Gpu.CommandTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        if (options.Network.MinBytesPerSecond < 1)
        {
            failures.Add($"{s}:Network:MinBytesPerSecond must be at least 1, got {options.Network.MinBytesPerSecond}");
        }

        NonEmptyEntries(failures, $"{s}:Network:ExcludeInterfaces", options.Network.ExcludeInterfaces);
        Range(failures, $"{s}:KeepAwake:MinCpuTime", options.KeepAwake.MinCpuTime, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        ProcessNames(failures, $"{s}:KeepAwake:Processes", options.KeepAwake.Processes);
        ProcessNames(failures, $"{s}:KeepAwake:ExtraProcesses", options.KeepAwake.ExtraProcesses);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Range(List<string> failures, string setting, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{setting} must be between {min} and {max}, got {value}");
        }
    }

    private static void NonEmptyEntries(List<string> failures, string setting, IList<string>? values)
    {
        for (var i = 0; values is not null && i < values.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(values[i]))
            {
                failures.Add($"{setting}:{i} must not be empty, got \"{values[i]}\"");
            }
        }
    }

    private static void ProcessNames(List<string> failures, string setting, IList<string>? values)
    {
        NonEmptyEntries(failures, setting, values);
        for (var i = 0; values is not null && i < values.Count; i++)
        {
            if (values[i].Contains('/', StringComparison.Ordinal))
            {
                failures.Add($"{setting}:{i} must be a process name, not a path, got \"{values[i]}\"");
            }
        }
    }
}
