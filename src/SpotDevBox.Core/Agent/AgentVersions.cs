using System.Globalization;
using System.Text.RegularExpressions;

namespace SpotDevBox.Core.Agent;

/// <summary>
/// Compares the version an agent reports in status.json with the CLI's own, by SemVer 2.0 precedence:
/// major.minor.patch numerically, a pre-release below its release, build metadata (+commit) ignored.
/// </summary>
public static partial class AgentVersions
{
    /// <summary>
    /// True when <paramref name="agent"/> is an older version than <paramref name="cli"/>; false when it is the same
    /// or newer; null when either is not a SemVer version (unknown, empty, a name): nothing is claimed about it.
    /// </summary>
    public static bool? IsOlder(string? agent, string? cli) =>
        Parse(agent) is { } a && Parse(cli) is { } c ? Compare(a, c) < 0 : null;

    private sealed record Version(long Major, long Minor, long Patch, string[] PreRelease);

    private static Version? Parse(string? text)
    {
        if (text is null || SemVer().Match(text) is not { Success: true } m)
        {
            return null;
        }

        if (!long.TryParse(m.Groups["major"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !long.TryParse(m.Groups["minor"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            || !long.TryParse(m.Groups["patch"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var patch))
        {
            // More digits than a long holds: not a version anyone published.
            return null;
        }

        var pre = m.Groups["pre"].Success ? m.Groups["pre"].Value.Split('.') : [];
        return new Version(major, minor, patch, pre);
    }

    private static int Compare(Version a, Version b)
    {
        var core = (a.Major, a.Minor, a.Patch).CompareTo((b.Major, b.Minor, b.Patch));
        if (core != 0)
        {
            return core;
        }

        // A pre-release is below its release (1.0.0-rc.1 < 1.0.0).
        if (a.PreRelease.Length == 0 || b.PreRelease.Length == 0)
        {
            return b.PreRelease.Length.CompareTo(a.PreRelease.Length);
        }

        for (var i = 0; i < Math.Min(a.PreRelease.Length, b.PreRelease.Length); i++)
        {
            var c = CompareIdentifier(a.PreRelease[i], b.PreRelease[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return a.PreRelease.Length.CompareTo(b.PreRelease.Length);
    }

    /// <summary>Numeric identifiers numerically and below alphanumeric ones; alphanumeric ones in ASCII order.</summary>
    private static int CompareIdentifier(string a, string b)
    {
        var aNumeric = a.All(char.IsAsciiDigit);
        var bNumeric = b.All(char.IsAsciiDigit);
        return (aNumeric, bNumeric) switch
        {
            (true, true) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b),
            (true, false) => -1,
            (false, true) => 1,
            _ => Math.Sign(string.CompareOrdinal(a, b)),
        };
    }

    [GeneratedRegex(
        @"^(?<major>0|[1-9][0-9]*)\.(?<minor>0|[1-9][0-9]*)\.(?<patch>0|[1-9][0-9]*)(?:-(?<pre>(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex SemVer();
}
