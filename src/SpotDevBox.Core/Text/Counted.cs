using System.Globalization;

namespace SpotDevBox.Core.Text;

/// <summary>"1 snapshot", "2 snapshots", "1 directory", "3 directories": a count and its noun, in every message that counts.</summary>
public static class Counted
{
    /// <summary>The count (with thousands separators) and the noun, plural unless the count is one.</summary>
    public static string Of(long count, string singular) =>
        string.Create(CultureInfo.InvariantCulture, $"{count:#,0} {(count == 1 ? singular : Plural(singular))}");

    /// <summary>English plurals of the nouns the messages count: entry → entries, box → boxes, pack → packs.</summary>
    public static string Plural(string singular)
    {
        ArgumentException.ThrowIfNullOrEmpty(singular);
        // A phrase ("file or directory", "unfinished temporary file"): the plural is on its head noun.
        var or = singular.IndexOf(" or ", StringComparison.Ordinal);
        if (or > 0)
        {
            return Plural(singular[..or]) + " or " + Plural(singular[(or + 4)..]);
        }

        if (singular.Length > 1 && singular[^1] == 'y' && !"aeiou".Contains(singular[^2], StringComparison.Ordinal))
        {
            return singular[..^1] + "ies";
        }

        return singular.EndsWith('s') || singular.EndsWith('x') || singular.EndsWith("ch", StringComparison.Ordinal) || singular.EndsWith("sh", StringComparison.Ordinal)
            ? singular + "es"
            : singular + "s";
    }
}
