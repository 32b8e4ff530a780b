using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Serilog.Configuration;
using Serilog.Events;

namespace SpotDevBox.Hosting;

/// <summary>
/// The "Serilog" section, read here rather than by Serilog.Settings.Configuration, which finds sinks and
/// enrichers by scanning assemblies with reflection and does not work in the native AOT build of the agent.
/// What is read is what config/spotdevbox.json documents: <c>Serilog:MinimumLevel</c> as one level
/// (<c>"Warning"</c>) or as <c>Default</c> plus <c>Override</c> (a level per source-context prefix). The sinks
/// are set in code (the console, and the file of <c>Logging:File</c>). Any other key under "Serilog" stops the
/// verb with exit code 2 instead of being ignored, like an unknown key in the other sections.
/// </summary>
internal static class SerilogSettings
{
    public const string SectionName = "Serilog";

    public static void ApplyMinimumLevels(LoggerMinimumLevelConfiguration minimum, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(minimum);
        var failures = new List<string>();
        var levels = new List<(string? Source, LogEventLevel Level)>();
        var section = configuration.GetSection(SectionName);
        foreach (var child in section.GetChildren())
        {
            if (!string.Equals(child.Key, "MinimumLevel", StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"{child.Path} is not a setting: only {SectionName}:MinimumLevel (a level, or Default and Override) is read; the sinks are set in code (Logging:File for the log file)");
            }
        }

        var minimumLevel = section.GetSection("MinimumLevel");
        if (minimumLevel.Value is { } single)
        {
            Add(levels, failures, null, minimumLevel.Path, single);
        }

        foreach (var child in minimumLevel.GetChildren())
        {
            if (string.Equals(child.Key, "Default", StringComparison.OrdinalIgnoreCase))
            {
                Add(levels, failures, null, child.Path, child.Value);
            }
            else if (string.Equals(child.Key, "Override", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var source in child.GetChildren())
                {
                    Add(levels, failures, source.Key, source.Path, source.Value);
                }
            }
            else
            {
                failures.Add($"{child.Path} is not a setting: {SectionName}:MinimumLevel takes Default and Override");
            }
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(SectionName, typeof(LogEventLevel), failures);
        }

        foreach (var (source, level) in levels)
        {
            if (source is null)
            {
                minimum.Is(level);
            }
            else
            {
                minimum.Override(source, level);
            }
        }
    }

    private static void Add(List<(string?, LogEventLevel)> levels, List<string> failures, string? source, string path, string? value)
    {
        // Names only (Verbose, Debug, Information, Warning, Error, Fatal; any case), as Serilog's own reader takes them.
        if (Enum.TryParse<LogEventLevel>(value, ignoreCase: true, out var level) && Enum.IsDefined(level) && !int.TryParse(value, out _))
        {
            levels.Add((source, level));
        }
        else
        {
            failures.Add($"{path} must be a Serilog level (Verbose, Debug, Information, Warning, Error or Fatal), got '{value}'");
        }
    }
}
