using System.Security.Cryptography;
using System.Text;
using SpotDevBox.Core.FileSystem;
using SpotDevBox.Core.Ssh;

namespace SpotDevBox.Ssh;

/// <summary>
/// The known-hosts file ssh and ssh-config point ssh at: <c>spotdevbox-&lt;box&gt; &lt;keytype&gt; &lt;base64&gt;</c> lines,
/// the box's keys under a name that stays the same for every instance of the box (ssh's HostKeyAlias).
/// </summary>
internal static class KnownHostsFile
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary><c>~/.ssh/spotdevbox_known_hosts</c>.</summary>
    public static string DefaultPath => Path.Combine(Hosting.UserFolders.Path(Environment.SpecialFolder.UserProfile), ".ssh", "spotdevbox_known_hosts");

    /// <summary>
    /// Replaces the lines of each alias with its keys: none (null or empty) removes them, since keys that were
    /// accepted on a first connection to one instance say nothing about the next. Lines of other hosts, and
    /// marker lines (<c>@cert-authority</c>, <c>@revoked</c>), stay as they are. ssh may have hashed the names it
    /// added (HashKnownHosts), so hashed lines are matched against the alias too. The new file is written next
    /// to the old one with mode 0600 and renamed over it: a reader sees the old file or the new one, never half.
    /// </summary>
    public static void Update(string path, IReadOnlyDictionary<string, IReadOnlyList<HostPublicKey>?> keysByAlias)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(keysByAlias);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the known-hosts file is written with POSIX modes (0600): Linux and macOS only");
        }

        var kept = File.Exists(path)
            ? File.ReadAllLines(path).Where(line => !keysByAlias.Keys.Any(alias => BelongsTo(line, alias))).ToList()
            : [];
        var text = new StringBuilder();
        foreach (var line in kept)
        {
            text.Append(line).Append('\n');
        }

        foreach (var (alias, keys) in keysByAlias.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            foreach (var key in keys ?? [])
            {
                text.Append(alias).Append(' ').Append(key).Append('\n');
            }
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            // ~/.ssh must not be readable by others, or ssh refuses files in it.
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }

        AtomicFile.Write(path, Encoding.UTF8.GetBytes(text.ToString()), OwnerOnlyFile);
    }

    /// <summary>
    /// Whether a known_hosts line is one of <paramref name="alias"/>'s: its host field names the alias (alone or
    /// in a comma-separated list), or is a hashed name (<c>|1|salt|hash</c>, HMAC-SHA1 of the name) of it.
    /// </summary>
    internal static bool BelongsTo(string line, string alias)
    {
        var trimmed = line.TrimStart();
        if (trimmed.Length == 0 || trimmed[0] is '#' or '@')
        {
            return false;
        }

        var hosts = trimmed.Split([' ', '\t'], 2)[0];
        if (hosts.StartsWith("|1|", StringComparison.Ordinal))
        {
            var parts = hosts.Split('|');
            if (parts.Length != 4)
            {
                return false;
            }

            try
            {
                var salt = Convert.FromBase64String(parts[2]);
                var hash = Convert.FromBase64String(parts[3]);
#pragma warning disable CA5350 // ssh's hashed host names are HMAC-SHA1 (HashKnownHosts); this only recognises them, it protects nothing.
                return CryptographicOperations.FixedTimeEquals(HMACSHA1.HashData(salt, Encoding.UTF8.GetBytes(alias)), hash);
#pragma warning restore CA5350
            }
            catch (FormatException)
            {
                return false;
            }
        }

        return hosts.Split(',').Any(h => h == alias);
    }
}
