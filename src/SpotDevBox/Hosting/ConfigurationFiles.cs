using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using SpotDevBox.Aws.Compute;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Savings;
using SpotDevBox.Repositories;

namespace SpotDevBox.Hosting;

/// <summary>A configuration the user must change (exit code 2); the message names the file and the setting, never a value.</summary>
internal sealed class InvalidConfigurationException(string message) : Exception(message);

/// <summary>
/// The configuration files (the shipped one, /etc/spotdevbox/spotdevbox.json, the user's <see cref="UserFile"/>,
/// SPOTDEVBOX_CONFIG): loaded so
/// that a file that is not JSON or not there, a section nobody reads, or a value of the wrong type becomes
/// one line naming the file and the setting. Values are never echoed: a setting may hold a secret.
/// </summary>
internal static partial class ConfigurationFiles
{
    public const string ConfigVariable = "SPOTDEVBOX_CONFIG";
    public const string EnvironmentPrefix = "SPOTDEVBOX_";

    /// <summary>
    /// Every top-level section something reads (a test checks each SectionName's first segment is here). Only the
    /// files' sections are checked: SPOTDEVBOX_* variables also make keys such as CONFIG and REPOSITORY.
    /// </summary>
    public static readonly string[] Sections =
    [
        AgentOptions.SectionName,
        Ec2Options.SectionName.Split(':')[0],
        BackupEngineOptions.SectionName,
        ControllerOptions.SectionName,
        KeyOptions.SectionName,
        "Logging",
        PriceOptions.SectionName,
        SerilogSettings.SectionName,
        StorageOptions.SectionName,
    ];

    /// <summary>Adds the files in order (a later one overrides an earlier one) and checks each file's sections.</summary>
    /// <param name="createsIt">
    /// The verb writes the configuration (setup, box add): a SPOTDEVBOX_CONFIG file that is not there yet is the one it
    /// is about to create, not a mistake.
    /// </param>
    public static void Add(IConfigurationBuilder configuration, string? configFile, bool createsIt = false)
    {
        AddFile(configuration, Path.Combine(AppContext.BaseDirectory, "config", "spotdevbox.json"), optional: true);
        AddFile(configuration, "/etc/spotdevbox/spotdevbox.json", optional: true);
        if (UserFile() is { Length: > 0 } user)
        {
            AddFile(configuration, user, optional: true);
        }

        if (!string.IsNullOrEmpty(configFile))
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full) && createsIt && !Directory.Exists(full))
            {
                return;
            }

            if (!File.Exists(full))
            {
                throw new InvalidConfigurationException(
                    $"{ConfigVariable} names the configuration file {full}, which does not exist (or is not a file): create it, or point {ConfigVariable} at yours, or unset it");
            }

            AddFile(configuration, full, optional: false);
        }
    }

    /// <summary>Whether the command line runs a verb that creates the configuration file it writes: setup, box add.</summary>
    public static bool WritesConfiguration(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var words = args.Where(a => !a.StartsWith('-')).Take(2).ToArray();
        return words is ["setup", ..] or ["box", "add"];
    }

    /// <summary>
    /// The user's configuration file, which setup and box add write: $XDG_CONFIG_HOME/spotdevbox/spotdevbox.json,
    /// else ~/.config/spotdevbox/spotdevbox.json (ApplicationData is both on Unix); on Windows
    /// %APPDATA%\spotdevbox\spotdevbox.json. Empty when the environment names no home at all (HOME unset): then
    /// there is no user file, and a verb that writes one asks for --config.
    /// </summary>
    public static string UserFile() =>
        UserFolders.Path(Environment.SpecialFolder.ApplicationData) is { Length: > 0 } folder && Path.IsPathFullyQualified(folder)
            ? Path.Combine(folder, "spotdevbox", "spotdevbox.json")
            : "";

    /// <summary>
    /// The file a verb that edits the configuration (setup, box add, box remove) writes: --config FILE if given, else
    /// $SPOTDEVBOX_CONFIG if set, else <see cref="UserFile"/>. A full path.
    /// </summary>
    public static string WritableFile(string? explicitConfig)
    {
        if (!string.IsNullOrWhiteSpace(explicitConfig))
        {
            return Path.GetFullPath(explicitConfig);
        }

        if (Environment.GetEnvironmentVariable(ConfigVariable) is { Length: > 0 } variable)
        {
            return Path.GetFullPath(variable);
        }

        return UserFile() is { Length: > 0 } user
            ? user
            : throw new InvalidConfigurationException($"there is no home folder to keep the configuration in (HOME is not set): pass --config FILE or set {ConfigVariable}");
    }

    /// <summary>Adds <paramref name="path"/> if it exists, with the checks every configuration file gets (a verb's --config FILE).</summary>
    public static void AddOptionalFile(IConfigurationBuilder configuration, string path) => AddFile(configuration, path, optional: true);

    private static void AddFile(IConfigurationBuilder configuration, string path, bool optional)
    {
        try
        {
            // A ConfigurationManager loads a source as it is added: a broken file throws here.
            configuration.AddJsonFile(path, optional, reloadOnChange: false);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidConfigurationException(NotJson(path, e));
        }

        if (configuration is IConfigurationRoot root && root.Providers.LastOrDefault() is FileConfigurationProvider provider
            && string.Equals(PhysicalPath(provider), path, StringComparison.Ordinal))
        {
            CheckSections(path, provider);
        }
    }

    private static string NotJson(string path, InvalidDataException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is JsonException { LineNumber: { } line, BytePositionInLine: { } column } json)
            {
                // The reader's message quotes the text it stopped at (part of a value, maybe a secret); only its
                // "Expected ..." sentence is shown, else what a configuration file must look like.
                var expected = ExpectedPart().Match(json.Message) is { Success: true } m
                    ? m.Value.TrimEnd('.', ' ')
                    : "expected a JSON object of sections, with names and strings in double quotes and a comma between settings";
                return $"the configuration file {path} is not valid JSON at line {line + 1}, column {column + 1}: {char.ToLowerInvariant(expected[0])}{expected[1..]}";
            }

            if (inner is FormatException format && inner.InnerException is null)
            {
                // The parser's own rules ("A duplicate key 'Backup:X' was found", "Top-level JSON element must be an object"): keys and kinds, no values.
                return $"the configuration file {path} cannot be read: {format.Message}";
            }
        }

        return $"the configuration file {path} cannot be read: it is not a JSON object of sections";
    }

    private static void CheckSections(string path, FileConfigurationProvider provider)
    {
        var unknown = provider.GetChildKeys([], parentPath: null)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Where(k => !Sections.Contains(k, StringComparer.OrdinalIgnoreCase))
            .ToList();
        if (unknown.Count == 0)
        {
            return;
        }

        var known = string.Join(", ", Sections.Order(StringComparer.Ordinal));
        var each = unknown.Select(k => Nearest(k, Sections) is { } near ? $"'{k}' is not a section (did you mean '{near}'?)" : $"'{k}' is not a section");
        throw new InvalidConfigurationException($"the configuration file {path}: {string.Join("; ", each)}; the sections are {known}");
    }

    /// <summary>The known name within two edits of <paramref name="name"/> (ignoring case), the closest first; null if none is.</summary>
    public static string? Nearest(string name, IEnumerable<string> known) =>
        known.Select(k => (Name: k, Distance: Distance(name.ToUpperInvariant(), k.ToUpperInvariant())))
            .Where(k => k.Distance <= 2)
            .OrderBy(k => k.Distance)
            .Select(k => k.Name)
            .FirstOrDefault();

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>
    /// The binder's "Failed to convert configuration value '...' at 'Agent:StopTimeout' to type 'System.TimeSpan'"
    /// (anywhere in the chain) as a line naming where the value came from and what it must be; null for anything else.
    /// The binder's message itself quotes the value, so it is never shown.
    /// </summary>
    public static string? DescribeConversionFailure(Exception e, IConfiguration? configuration)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is InvalidOperationException && ConversionFailure().Match(inner.Message) is { Success: true } m)
            {
                var path = m.Groups["path"].Value;
                return $"invalid configuration: {path} in {Source(path, configuration)} must be {Expected(m.Groups["type"].Value)}; "
                    + "the value there is not (it is not shown: it may be a secret)";
            }
        }

        return null;
    }

    /// <summary>
    /// "Controller:Boxes:alice:Regoin is not a setting ..." as said by any validator, with where that key came from
    /// ("... is not a setting (in the configuration file /etc/spotdevbox/config.json) ..."), so a person knows which
    /// file, or which environment variable, to fix.
    /// </summary>
    public static string NameSources(string message, IConfiguration? configuration) =>
        configuration is null
            ? message
            : UnknownSetting().Replace(message, m =>
                Source(m.Groups["path"].Value, configuration) is var source && source != "the configuration"
                    ? $"{m.Groups["path"].Value} is not a setting (in {source})"
                    : m.Value);

    /// <summary>
    /// The binder's "'ErrorOnUnknownConfiguration' was set ..., but the following properties were not found on the
    /// instance of SpotDevBox....BackupEngineOptions: 'PackSizeMB'" as the settings a person wrote: each key of the
    /// configuration that ends in such a name ("Backup:PackSizeMB is not a setting ..."); the binder's text when none
    /// is found.
    /// </summary>
    public static string DescribeUnknownSettings(string binderMessage, IConfiguration? configuration)
    {
        var names = UnknownProperties().Matches(binderMessage[(binderMessage.LastIndexOf(':') + 1)..]).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var keys = configuration?.AsEnumerable()
            .Select(kv => kv.Key)
            .Where(k => names.Contains(k[(k.LastIndexOf(':') + 1)..]) && !k.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.Ordinal)
            .ToList() ?? [];
        return keys.Count == 0
            ? binderMessage
            : string.Join("; ", keys.Select(k => $"{k} is not a setting (a typo, or a setting of another version?)"));
    }

    private static string Source(string path, IConfiguration? configuration)
    {
        var provider = (configuration as IConfigurationRoot)?.Providers.Reverse().FirstOrDefault(p => p.TryGet(path, out _));
        return provider switch
        {
            FileConfigurationProvider file => "the configuration file " + PhysicalPath(file),
            EnvironmentVariablesConfigurationProvider => "the environment variable " + EnvironmentPrefix + path.Replace(":", "__", StringComparison.Ordinal),
            _ => "the configuration",
        };
    }

    private static string Expected(string type)
    {
        if (NullableOf().Match(type) is { Success: true } nullable)
        {
            type = nullable.Groups["inner"].Value;
        }

        return type switch
        {
            "System.TimeSpan" => "a duration such as \"00:05:00\" (hh:mm:ss; \"1.00:00:00\" is one day)",
            "System.Int32" or "System.Int64" or "System.Int16" or "System.Byte" or "System.UInt32" or "System.UInt64" or "System.UInt16" => "a whole number",
            "System.Double" or "System.Single" or "System.Decimal" => "a number such as 0.5 (with a dot)",
            "System.Boolean" => "true or false",
            "System.DateTimeOffset" or "System.DateTime" => "a date and time such as \"2027-01-04T09:00:00+01:00\"",
            "System.Uri" => "a URL",
            _ => "a value of type " + type[(type.LastIndexOf('.') + 1)..],
        };
    }

    private static string? PhysicalPath(FileConfigurationProvider provider) =>
        provider.Source.Path is { } p ? provider.Source.FileProvider?.GetFileInfo(p).PhysicalPath ?? p : null;

    [GeneratedRegex(@"(?<path>[A-Za-z][A-Za-z0-9_\-]*(:[A-Za-z0-9_\-]+)+) is not a setting", RegexOptions.CultureInvariant)]
    private static partial Regex UnknownSetting();

    [GeneratedRegex(@"'(?<name>[^']+)'", RegexOptions.CultureInvariant)]
    private static partial Regex UnknownProperties();

    [GeneratedRegex(@"Expected [^.]*", RegexOptions.CultureInvariant)]
    private static partial Regex ExpectedPart();

    // Greedy up to the last " at '": the value before it may contain anything.
    [GeneratedRegex(@"^Failed to convert configuration value .* at '(?<path>[^']*)' to type '(?<type>[^']*)'\.", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex ConversionFailure();

    [GeneratedRegex(@"^System\.Nullable`1\[\[?(?<inner>[^,\]]+)", RegexOptions.CultureInvariant)]
    private static partial Regex NullableOf();
}
