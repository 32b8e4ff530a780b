using Microsoft.Extensions.Options;

namespace SpotDevBox.Core.Interruption;

/// <summary>Names the setting, the limit and the value, so a bad config stops the program with a useful line.</summary>
public sealed class InterruptionOptionsValidator : IValidateOptions<InterruptionOptions>
{
    /// <summary>
    /// The upper limit of <see cref="InterruptionOptions.MaxBackoff"/>: a quarter of the shortest lead time
    /// seen (108 s), so a notice is read at the latest ~30 s after it appears even under throttling.
    /// </summary>
    public static readonly TimeSpan MaxBackoffLimit = TimeSpan.FromSeconds(30);

    public ValidateOptionsResult Validate(string? name, InterruptionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var s = InterruptionOptions.SectionName;
        OptionRange.Check(failures, $"{s}:PollInterval", options.PollInterval, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        OptionRange.Check(failures, $"{s}:MaintenancePollInterval", options.MaintenancePollInterval, TimeSpan.FromSeconds(10), TimeSpan.FromHours(1));
        OptionRange.Check(failures, $"{s}:MaxBackoff", options.MaxBackoff, TimeSpan.FromSeconds(1), MaxBackoffLimit);
        if (options.MaxBackoff < options.PollInterval)
        {
            failures.Add($"{s}:MaxBackoff must not be shorter than {s}:PollInterval ({options.PollInterval}), got {options.MaxBackoff}");
        }

        OptionRange.Check(failures, $"{s}:SafetyMargin", options.SafetyMargin, TimeSpan.Zero, TimeSpan.FromSeconds(60));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal static class OptionRange
{
    public static void Check(List<string> failures, string setting, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{setting} must be between {min} and {max}, got {value}");
        }
    }
}
