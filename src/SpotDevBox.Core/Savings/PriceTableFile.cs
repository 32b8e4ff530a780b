using System.Globalization;
using System.Text.RegularExpressions;

namespace SpotDevBox.Core.Savings;

/// <summary>Where price tables are found: a folder, and how its files are named in a <see cref="PriceQuote.Source"/>.</summary>
/// <param name="Path">The folder.</param>
/// <param name="DisplayName">How people know it: <c>config/prices</c> for the shipped tables, the full path for refreshed ones.</param>
public sealed record PriceTableFolder(string Path, string DisplayName);

/// <summary>What a table's <c>#</c> header says about it: where its prices come from and as of when.</summary>
/// <param name="Name">"AWS Price List API": the words after "Source:", up to the first comma, bracket or sentence end.</param>
/// <param name="AsOf">The first yyyy-MM-dd date in the header; null when it names none.</param>
public sealed record PriceTableSource(string Name, DateOnly? AsOf)
{
    public string DateText => AsOf is { } d ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "undated";

    /// <summary>"config/prices/x.csv (AWS Price List API, 2026-07-20)".</summary>
    public string Describe(string file) => $"{file} ({Name}, {DateText})";
}

/// <summary>
/// Reads the simple price tables (<c>#</c> comment lines, a header row, comma-separated rows without quoting)
/// line by line, so a large table (the Spot Advisor's, ~25,000 rows) is never held as one string.
/// </summary>
public static partial class PriceTableFile
{
    /// <summary>Reads the header and hands every row (its fields, by the header's column names) to <paramref name="row"/>.</summary>
    /// <param name="columns">The columns the caller needs, in the order its rows get them.</param>
    /// <exception cref="InvalidDataException">The header lacks a column, or a row has the wrong number of fields; names the file and line.</exception>
    public static PriceTableSource Read(string path, IReadOnlyList<string> columns, Action<string[], int> row)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(row);
        using var reader = new StreamReader(path);
        var comments = new List<string>();
        int[]? index = null;
        var width = 0;
        var lineNumber = 0;
        var values = new string[columns.Count];
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0 || (index is null && line.StartsWith('#')))
            {
                if (line.Length > 0)
                {
                    comments.Add(line.TrimStart('#').Trim());
                }

                continue;
            }

            var fields = line.Split(',');
            if (index is null)
            {
                var header = fields.Select(f => f.Trim()).ToList();
                index = [.. columns.Select(c => header.FindIndex(h => string.Equals(h, c, StringComparison.OrdinalIgnoreCase)))];
                var missing = columns.Where((_, i) => index[i] < 0).ToList();
                if (missing.Count > 0)
                {
                    throw new InvalidDataException($"{path} line {lineNumber}: the header has no column {string.Join(", ", missing)} (expected {string.Join(",", columns)})");
                }

                width = fields.Length;
                continue;
            }

            if (fields.Length != width)
            {
                throw new InvalidDataException($"{path} line {lineNumber}: {fields.Length} fields where the header has {width}");
            }

            for (var i = 0; i < values.Length; i++)
            {
                values[i] = fields[index[i]].Trim();
            }

            row(values, lineNumber);
        }

        if (index is null)
        {
            throw new InvalidDataException($"{path}: no header row (expected {string.Join(",", columns)})");
        }

        return ParseSource(comments);
    }

    /// <summary>A price in a table: a plain decimal number (no exponent, no thousands separator).</summary>
    public static decimal ParseUsd(string text, string path, int line) =>
        TryParseUsd(text, out var value)
            ? value
            : throw new InvalidDataException($"{path} line {line}: '{text}' is not a price in USD");

    public static bool TryParseUsd(string? text, out decimal value) =>
        decimal.TryParse(text?.Trim(), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>The source's name and date from a table's comment lines (the '#' already removed).</summary>
    public static PriceTableSource ParseSource(IEnumerable<string> comments)
    {
        var text = string.Join(' ', comments);
        var name = "source not stated";
        var at = text.IndexOf("Source:", StringComparison.OrdinalIgnoreCase);
        if (at >= 0)
        {
            var rest = text[(at + "Source:".Length)..].Trim();
            var end = SourceEnd().Match(rest) is { Success: true } m ? m.Index : rest.Length;
            var found = rest[..end].Trim();
            if (found.StartsWith("the ", StringComparison.OrdinalIgnoreCase))
            {
                found = found[4..];
            }

            if (found.Length > 0)
            {
                name = found;
            }
        }

        var date = FirstDate().Match(text);
        DateOnly? asOf = date.Success && DateOnly.TryParseExact(date.Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
        return new PriceTableSource(name, asOf);
    }

    [GeneratedRegex(@"[,(;]|\.(\s|$)", RegexOptions.CultureInvariant)]
    private static partial Regex SourceEnd();

    [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}", RegexOptions.CultureInvariant)]
    private static partial Regex FirstDate();
}
