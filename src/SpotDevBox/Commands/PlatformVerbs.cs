namespace SpotDevBox.Commands;

/// <summary>
/// Which verbs run where. The builds for macOS and Windows carry every verb, but only the laptop's work there:
/// the rest read and write Linux files (owners, modes, links, the agent's run directory) through Mono.Unix and
/// systemd, and would fail deep inside. Those refuse first, in one line, before anything is read.
/// </summary>
internal static class PlatformVerbs
{
    /// <summary>
    /// Lets a test play another system on Linux: windows or macos (anything else, or unset, is this system).
    /// Only the tests set it; it changes nothing but this check.
    /// </summary>
    public const string TestVariable = "SPOTDEVBOX_TEST_OS";

    /// <summary>The verbs a laptop runs on any system: they talk to EC2 and S3, read prices, or start ssh.</summary>
    public static readonly IReadOnlySet<string> Laptop = new HashSet<string>(StringComparer.Ordinal)
    {
        "up", "down", "status", "ssh", "ssh-config", "keepalive", "schedule", "savings", "savings reconcile", "estimate", "prices refresh",
        // S3 and archives only: publishing a release's agent builds, and moving a box's prefix.
        "agent publish", "storage migrate",
        // The AWS CLI, EC2 and S3: deploying the fleet.
        "setup",
        // The AWS CLI, EC2 and S3, and the user's configuration file: making and removing boxes.
        "box add", "box remove",
        // S3 (or a local directory) and KMS: an owner manages their repository's keys from a laptop.
        "key list", "key add", "key remove", "key passwd",
        // The controllers' database, as savings reads it: an operator looks at the cluster from anywhere.
        "controller status",
    };

    /// <summary>This system's name when it is not Linux ("Windows", "macOS"), else null: every verb runs.</summary>
    public static string? OtherSystem(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return environment(TestVariable)?.ToLowerInvariant() switch
        {
            "windows" => "Windows",
            "macos" => "macOS",
            "linux" => null,
            _ => OperatingSystem.IsLinux() ? null : OperatingSystem.IsWindows() ? "Windows" : OperatingSystem.IsMacOS() ? "macOS" : Environment.OSVersion.Platform.ToString(),
        };
    }

    /// <summary>
    /// The one line that refuses <paramref name="verb"/> (a registered verb's path, "backup", "agent run") on
    /// <paramref name="system"/>, or null when it runs there.
    /// </summary>
    public static string? Refusal(string verb, string? system)
    {
        ArgumentNullException.ThrowIfNull(verb);
        if (system is null || Laptop.Contains(verb))
        {
            return null;
        }

        var where = verb.StartsWith("controller", StringComparison.Ordinal) ? "the controller's server" : "the box: spotdevbox ssh BOX";
        return $"'{verb}' runs on Linux ({where}), not on {system}; on {system} use {string.Join(", ", Laptop.Order(StringComparer.Ordinal))}";
    }
}
