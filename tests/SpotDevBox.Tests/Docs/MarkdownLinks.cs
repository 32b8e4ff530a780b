using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SpotDevBox.Tests.Docs;

/// <summary>
/// The relative links of Markdown files, checked as GitHub renders them: the path must name a file or folder of the
/// repository, and a <c>#fragment</c> into a Markdown file must be one of its headings' anchors (GitHub's slugs:
/// lower case, punctuation dropped, spaces to hyphens, repeats suffixed -1, -2, ...). Links inside code are not links.
/// </summary>
internal sealed partial class MarkdownLinks(Func<string, string?> readFile, Func<string, bool> isDirectory)
{
    /// <summary>Every broken relative link of <paramref name="file"/> (a path from the repository root, '/'-separated), described.</summary>
    public IEnumerable<string> Broken(string file)
    {
        var text = readFile(file) ?? throw new ArgumentException($"{file} does not exist", nameof(file));
        var folder = file.Contains('/') ? file[..file.LastIndexOf('/')] : "";
        foreach (var target in Targets(text))
        {
            if (SchemeLink().IsMatch(target))
            {
                continue;
            }

            var hash = target.IndexOf('#');
            var path = hash < 0 ? target : target[..hash];
            var fragment = hash < 0 ? null : Uri.UnescapeDataString(target[(hash + 1)..]);
            var resolved = path.Length == 0 ? file : Resolve(folder, Uri.UnescapeDataString(path));
            if (resolved is null)
            {
                yield return $"{file}: ({target}) leaves the repository";
                continue;
            }

            var content = readFile(resolved);
            if (content is null && !isDirectory(resolved))
            {
                yield return $"{file}: ({target}) names {resolved}, which does not exist";
                continue;
            }

            if (fragment is { Length: > 0 } && content is not null && resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase)
                && !Anchors(content).Contains(fragment))
            {
                yield return $"{file}: ({target}) names #{fragment}, which is no heading of {resolved}";
            }
        }
    }

    /// <summary>The link targets of a Markdown text: inline links and images, and reference definitions, outside code.</summary>
    public static IEnumerable<string> Targets(string markdown)
    {
        var prose = InlineCode().Replace(WithoutFences(markdown), "");
        foreach (Match m in InlineLink().Matches(prose))
        {
            yield return m.Groups["target"].Value.Trim('<', '>');
        }

        foreach (Match m in ReferenceDefinition().Matches(prose))
        {
            yield return m.Groups["target"].Value.Trim('<', '>');
        }
    }

    /// <summary>The anchors GitHub gives a Markdown file's ATX headings (and explicit <c>id</c>/<c>name</c> attributes).</summary>
    public static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in WithoutFences(markdown).Split('\n'))
        {
            var heading = AtxHeading().Match(line.TrimEnd('\r'));
            if (heading.Success)
            {
                var slug = Slug(heading.Groups["text"].Value);
                var count = seen.GetValueOrDefault(slug);
                seen[slug] = count + 1;
                anchors.Add(count == 0 ? slug : $"{slug}-{count}");
            }

            foreach (Match id in HtmlAnchor().Matches(line))
            {
                anchors.Add(id.Groups["id"].Value);
            }
        }

        return anchors;
    }

    /// <summary>GitHub's anchor for a heading's text: the rendered text, lower case, only letters, digits, '_', '-' and spaces kept, spaces to '-'.</summary>
    public static string Slug(string heading)
    {
        var rendered = InlineLink().Replace(heading, m => m.Groups["text"].Value).Replace("`", "").Replace("*", "");
        var slug = new StringBuilder();
        foreach (var c in rendered.Trim().ToLowerInvariant())
        {
            var category = char.GetUnicodeCategory(c);
            if (c == ' ')
            {
                slug.Append('-');
            }
            else if (c == '-' || char.IsLetterOrDigit(c) || category is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark)
            {
                slug.Append(c);
            }
        }

        return slug.ToString();
    }

    private static string? Resolve(string folder, string path)
    {
        var parts = new List<string>(path.StartsWith('/') ? [] : folder.Split('/', StringSplitOptions.RemoveEmptyEntries));
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
            {
                if (parts.Count == 0)
                {
                    return null;
                }

                parts.RemoveAt(parts.Count - 1);
            }
            else if (part != ".")
            {
                parts.Add(part);
            }
        }

        return string.Join('/', parts);
    }

    /// <summary>The text with every fenced code block's lines blanked (the line count kept).</summary>
    private static string WithoutFences(string markdown)
    {
        var lines = markdown.Split('\n');
        string? fence = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].TrimStart();
            if (fence is null && (trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal)))
            {
                fence = trimmed[..(trimmed.Length - trimmed.TrimStart(trimmed[0]).Length)];
                lines[i] = "";
            }
            else if (fence is not null)
            {
                if (trimmed.TrimEnd().StartsWith(fence, StringComparison.Ordinal) && trimmed.Trim().Trim(fence[0]).Length == 0)
                {
                    fence = null;
                }

                lines[i] = "";
            }
        }

        return string.Join('\n', lines);
    }

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex SchemeLink();

    [GeneratedRegex(@"(?<!`)(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"!?\[(?<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]\((?<target>[^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"^ {0,3}\[[^\]]+\]:\s*(?<target>\S+)", RegexOptions.Multiline)]
    private static partial Regex ReferenceDefinition();

    [GeneratedRegex(@"^ {0,3}#{1,6}\s+(?<text>.*?)(?:\s+#+)?\s*$")]
    private static partial Regex AtxHeading();

    [GeneratedRegex(@"<a\s[^>]*\b(?:id|name)=""(?<id>[^""]+)""")]
    private static partial Regex HtmlAnchor();
}
