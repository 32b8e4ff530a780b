using System.Globalization;
using System.Text;

namespace SpotDevBox.Backup.Repository;

/// <summary>How a name read from the store is printed: it may hold anything, so nothing of it can steer a terminal or a log line.</summary>
public static class ListedName
{
    /// <summary>Longer names are cut: a name is quoted so that someone can find and remove the object, not to be reproduced whole.</summary>
    public const int MaxPrinted = 200;

    /// <summary>Control and formatting characters (newline, NUL, escape, bidirectional overrides) as <c>\xNN</c> or <c>\uNNNN</c>.</summary>
    public static string Printable(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var text = new StringBuilder(Math.Min(name.Length, MaxPrinted) + 8);
        foreach (var c in name.Length > MaxPrinted ? name[..MaxPrinted] : name)
        {
            if (char.IsControl(c) && c <= 0xFF)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else if (char.IsControl(c) || char.IsSurrogate(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                text.Append(c);
            }
        }

        return name.Length > MaxPrinted ? text.Append("...").ToString() : text.ToString();
    }
}
