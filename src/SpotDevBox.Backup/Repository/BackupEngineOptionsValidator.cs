using Microsoft.Extensions.Options;

namespace SpotDevBox.Backup.Repository;

/// <summary>Names the setting, the limit and the value, so a bad config stops the program with a useful line.</summary>
public sealed class BackupEngineOptionsValidator : IValidateOptions<BackupEngineOptions>
{
    public ValidateOptionsResult Validate(string? name, BackupEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var s = BackupEngineOptions.SectionName;
        Range(failures, $"{s}:ReadConcurrency", options.ReadConcurrency, 1, 64);
        Range(failures, $"{s}:TransferConcurrency", options.TransferConcurrency, 1, 64);
        Range(failures, $"{s}:PackSizeMiB", options.PackSizeMiB, 1, 64);
        Range(failures, $"{s}:CompressionLevel", options.CompressionLevel, 1, 19);
        if (options.StaleLockAfter < TimeSpan.FromMinutes(1) || options.StaleLockAfter > TimeSpan.FromDays(1))
        {
            failures.Add($"{s}:StaleLockAfter must be between 00:01:00 and 1.00:00:00, got {options.StaleLockAfter}");
        }

        if (options.PauseBeforeSnapshot < TimeSpan.Zero || options.PauseBeforeSnapshot > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{s}:PauseBeforeSnapshot must be between 00:00:00 and 00:10:00, got {options.PauseBeforeSnapshot}");
        }

        for (var i = 0; i < options.Excludes.Count; i++)
        {
            try
            {
                _ = new Selection.ExcludeMatcher([options.Excludes[i]]);
            }
            catch (ArgumentException e)
            {
                failures.Add($"{s}:Excludes:{i} is not a valid pattern: {e.Message}");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Range(List<string> failures, string setting, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{setting} must be between {min} and {max}, got {value}");
        }
    }
}
