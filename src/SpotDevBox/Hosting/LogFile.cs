using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Serilog;
using Serilog.Sinks.File;

namespace SpotDevBox.Hosting;

/// <summary>
/// The compact JSON (CLEF) log file of <c>Logging:File</c>, rolled daily, and how many of its files are kept
/// (<c>Logging:RetainedFiles</c>). Serilog names each day's file by inserting the local date before the
/// extension (<c>spotdevbox-.clef</c> becomes <c>spotdevbox-20261207.clef</c>), and a process that finds that
/// file held by another (the controller beside a CLI verb) writes <c>spotdevbox-20261207_001.clef</c>: so the
/// real file is only known once it is opened, which <see cref="OpenedPath"/> records.
/// </summary>
internal sealed class LogFile
{
    public const string FileKey = "Logging:File";
    public const string RetainedFilesKey = "Logging:RetainedFiles";
    public const int DefaultRetainedFiles = 14;

    /// <summary>The settings under "Logging": any other key stops the verb (exit 2), as in the other sections.</summary>
    public static readonly string[] Settings = ["File", "RetainedFiles"];

    private readonly Hooks _hooks = new();

    private LogFile(string? pathPattern, int? retainedFiles)
    {
        PathPattern = pathPattern;
        RetainedFiles = retainedFiles;
    }

    /// <summary>What Serilog is given (the date goes before the extension); null when the file is off.</summary>
    public string? PathPattern { get; }

    /// <summary>The number of daily files kept, the newest; null: all of them.</summary>
    public int? RetainedFiles { get; }

    /// <summary>The file this process writes to, once it has opened one.</summary>
    public string? OpenedPath => _hooks.Opened;

    /// <summary>
    /// Reads and checks <c>Logging:*</c>. A wrong value throws <see cref="InvalidConfigurationException"/> naming the
    /// setting and what it takes (exit 2), never the value.
    /// </summary>
    public static LogFile From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var unknown = configuration.GetSection("Logging").GetChildren()
            .Select(c => c.Key)
            .Where(k => !Settings.Contains(k, StringComparer.OrdinalIgnoreCase))
            .ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidConfigurationException(
                $"{string.Join(", ", unknown.Select(k => "Logging:" + k))} is not a setting: Logging takes File (the log file, or \"off\") and RetainedFiles (how many daily files to keep)");
        }

        var retained = RetainedFilesFrom(configuration[RetainedFilesKey]);
        var file = configuration[FileKey];
        if (string.IsNullOrWhiteSpace(file))
        {
            // With no home at all, no file: a relative path would put the logs in whatever directory the command ran in.
            var state = StateDirectory.Current;
            file = Path.IsPathFullyQualified(state) ? Path.Combine(state, "logs", "spotdevbox-.clef") : "off";
        }

        return string.Equals(file.Trim(), "off", StringComparison.OrdinalIgnoreCase)
            ? new LogFile(null, retained)
            : new LogFile(Path.GetFullPath(file), retained);
    }

    private static int? RetainedFilesFrom(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return DefaultRetainedFiles;
        }

        if (string.Equals(value.Trim(), "unlimited", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0
            ? count
            : throw new InvalidConfigurationException(
                $"{RetainedFilesKey} must be a whole number of daily log files to keep, 1 or more, or \"unlimited\" (default {DefaultRetainedFiles})");
    }

    /// <summary>Adds the file sink (when the file is not off) with this object watching which file it opens.</summary>
    public void AddSink(LoggerConfiguration logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        if (PathPattern is null)
        {
            return;
        }

        logger.WriteTo.File(
            new Serilog.Formatting.Compact.CompactJsonFormatter(),
            PathPattern,
            rollingInterval: RollingInterval.Day,
            retainedFileCountLimit: RetainedFiles,
            hooks: _hooks);
    }

    /// <summary>
    /// Where the log is, for a person: the file this process writes to once it is open; before that the folder and
    /// the name pattern (<c>spotdevbox-YYYYMMDD.clef</c>), which is all that is true yet. Null when the file is off.
    /// </summary>
    public string? Describe()
    {
        if (OpenedPath is { } opened)
        {
            return opened;
        }

        if (PathPattern is null)
        {
            return null;
        }

        var directory = Path.GetDirectoryName(PathPattern) ?? "";
        var name = Path.GetFileNameWithoutExtension(PathPattern) + "YYYYMMDD" + Path.GetExtension(PathPattern);
        var kept = RetainedFiles is { } n ? $"the newest {n.ToString(CultureInfo.InvariantCulture)} kept" : "all kept";
        return $"{Path.Combine(directory, name)} (a file a day, by local date; {kept})";
    }

    private sealed class Hooks : FileLifecycleHooks
    {
        private volatile string? _opened;

        public string? Opened => _opened;

        public override Stream OnFileOpened(string path, Stream underlyingStream, Encoding encoding)
        {
            _opened = path;
            return base.OnFileOpened(path, underlyingStream, encoding);
        }
    }
}
