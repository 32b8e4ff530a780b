using System.Text;
using System.Text.RegularExpressions;
using MAB.DotIgnore;

namespace SpotDevBox.Backup.Selection;

/// <summary>
/// Decides which entries of a backup tree are excluded by gitignore-style patterns (from the command line
/// and the configuration), with git's semantics: the last matching pattern wins, "!" re-includes, a
/// trailing "/" matches directories only, a pattern with a "/" at the start or in the middle is anchored
/// at the backup root while one without matches a name at any depth, and nothing inside an excluded
/// directory can be re-included. Matching is case-sensitive, as on Linux.
/// </summary>
/// <remarks>
/// MAB.DotIgnore translates each glob to a regular expression (<see cref="Matcher.ToRegex"/>); this class
/// does the rest itself instead of using <see cref="IgnoreList"/>, because 3.0.1 gets three of the rules
/// above wrong:
/// <list type="bullet">
/// <item>a pattern without "/" is tested against every path segment, not just the name, so "*.c" then
/// "!src" re-includes "src/x.c", which git excludes;</item>
/// <item>an anchored pattern only checks that the path starts with the pattern's text before matching any
/// segment, so "/build" also excludes "buildx/build";</item>
/// <item>a directory is not checked against its excluded ancestors (only files are).</item>
/// </list>
/// Its glob translation also turns every "!" into "^" and does not escape "^", so a pattern needing a
/// literal "!" is rejected here and a literal "^" is escaped before translation; a backslash before a
/// character that is not special in a glob is dropped first, because the translation would otherwise
/// keep it as a literal backslash. Patterns it cannot translate ("a**b", an unterminated "[") make it
/// silently match nothing or throw a regex error; here they are an <see cref="ArgumentException"/>.
/// </remarks>
internal sealed class ExcludeMatcher
{
    private readonly Rule[] rules;

    /// <param name="patterns">
    /// Lines in .gitignore syntax. Lines starting with "#" are comments and are skipped; an empty line is an
    /// error, since on a command line or in a configuration list it is a mistake rather than a separator.
    /// </param>
    /// <exception cref="ArgumentException">A pattern is empty or not valid; the message names it.</exception>
    public ExcludeMatcher(IEnumerable<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        var parsed = new List<Rule>();
        foreach (var pattern in patterns)
        {
            if (pattern is null)
            {
                throw new ArgumentException("an exclude pattern is null", nameof(patterns));
            }

            if (Parse(pattern) is { } rule)
            {
                parsed.Add(rule);
            }
        }

        rules = [.. parsed];
    }

    /// <summary>True when no pattern is configured, so callers can skip matching altogether.</summary>
    public bool IsEmpty => rules.Length == 0;

    /// <summary>
    /// Whether the entry at <paramref name="relativePath"/> ("src/app/bin", relative to the backup root,
    /// '/'-separated, no leading or trailing '/') is excluded, by a pattern on itself or on any directory
    /// above it. The root itself ("") is never excluded.
    /// </summary>
    public bool IsExcluded(string relativePath, bool isDirectory)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        if (relativePath.Length == 0 || rules.Length == 0)
        {
            return false;
        }

        if (relativePath[0] == '/' || relativePath[^1] == '/')
        {
            throw new ArgumentException($"'{relativePath}' is not a relative path without leading or trailing '/'", nameof(relativePath));
        }

        var path = relativePath.AsSpan();
        for (var slash = path.IndexOf('/'); slash >= 0; slash = NextSlash(path, slash))
        {
            if (Evaluate(path[..slash], isDirectory: true))
            {
                return true;
            }
        }

        return Evaluate(path, isDirectory);
    }

    private static int NextSlash(ReadOnlySpan<char> path, int previous)
    {
        var next = path[(previous + 1)..].IndexOf('/');
        return next < 0 ? -1 : previous + 1 + next;
    }

    private bool Evaluate(ReadOnlySpan<char> path, bool isDirectory)
    {
        var name = path[(path.LastIndexOf('/') + 1)..];
        var excluded = false;
        foreach (var rule in rules)
        {
            // Only an excluding rule can change "included" and only a negated one "excluded".
            if (rule.Negated != excluded || (rule.DirectoryOnly && !isDirectory))
            {
                continue;
            }

            if (rule.IsMatch(rule.MatchesWholePath ? path : name))
            {
                excluded = !rule.Negated;
            }
        }

        return excluded;
    }

    private static Rule? Parse(string pattern)
    {
        if (pattern.StartsWith('#'))
        {
            return null;
        }

        // Trailing spaces are ignored unless escaped with a backslash (git does the same).
        var text = pattern;
        while (text.Length > 0 && text[^1] == ' ' && !(text.Length > 1 && text[^2] == '\\'))
        {
            text = text[..^1];
        }

        if (text.Length == 0)
        {
            throw Invalid(pattern, "it is empty");
        }

        var negated = text[0] == '!';
        var body = negated ? text[1..] : text;
        var anchored = body.StartsWith('/');
        body = anchored ? body[1..] : body;
        var directoryOnly = body.EndsWith('/') && !body.EndsWith("\\/", StringComparison.Ordinal);
        body = directoryOnly ? body[..^1] : body;

        if (body.Length == 0)
        {
            throw Invalid(pattern, "it names nothing");
        }

        if (body.Split('/') is var segments && segments.Any(s => s is "" or "." or ".."))
        {
            throw Invalid(pattern, "it has an empty, '.' or '..' segment, which a path relative to the backup root never has");
        }

        var glob = PrepareGlob(body, pattern);

        // Without wildcards a pattern is a plain name or path: compare it as text (most excludes are
        // like "node_modules/" or "bin/"), which is much cheaper than running a regex on every entry.
        var isLiteral = glob.IndexOfAny(['*', '?', '[', '\\']) < 0;
        Regex? regex = null;
        if (!isLiteral)
        {
            var expression = Matcher.ToRegex(glob)
                ?? throw Invalid(pattern, "'**' must be a whole path segment (as in '**/x', 'x/**' or 'x/**/y') and [:class:] must name a POSIX class");
            try
            {
                regex = new Regex(expression, RegexOptions.CultureInvariant);
            }
            catch (ArgumentException e)
            {
                throw Invalid(pattern, "it is not a valid glob (is a '[' not closed?)", e);
            }
        }

        // A "/" at the start or in the middle anchors the pattern at the root; otherwise it matches the
        // last name of a path at any depth. A trailing "/" does not count (it was removed above).
        return new Rule(negated, directoryOnly, anchored || body.Contains('/'), isLiteral ? glob : null, regex);
    }

    /// <summary>Adapts git glob syntax to what <see cref="Matcher.ToRegex"/> translates correctly.</summary>
    private static string PrepareGlob(string body, string pattern)
    {
        var glob = new StringBuilder(body.Length + 4);
        var inClass = false;
        var classStart = -1;
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (c == '\\')
            {
                if (i + 1 == body.Length)
                {
                    throw Invalid(pattern, "it ends with an unescaped backslash");
                }

                var escaped = body[++i];
                switch (escaped)
                {
                    case '!':
                        throw Invalid(pattern, "MAB.DotIgnore cannot match a literal '!'");
                    case '^':
                        glob.Append("\\^");
                        break;
                    case '*' or '?' or '[' or ']' or '\\':
                        glob.Append('\\').Append(escaped);
                        break;
                    default:
                        glob.Append(escaped);
                        break;
                }

                continue;
            }

            if (inClass)
            {
                // "[!a]" negates the class; any other "!" would be a literal the library turns into "^".
                if (c == '!' && i != classStart + 1)
                {
                    throw Invalid(pattern, "MAB.DotIgnore cannot match a literal '!'");
                }

                if (c == ']' && i > classStart + 1 && !(i == classStart + 2 && body[classStart + 1] is '!' or '^'))
                {
                    inClass = false;
                }

                glob.Append(c);
                continue;
            }

            switch (c)
            {
                case '[':
                    inClass = true;
                    classStart = i;
                    glob.Append(c);
                    break;
                case '!':
                    throw Invalid(pattern, "MAB.DotIgnore cannot match a literal '!'");
                case '^':
                    glob.Append("\\^");
                    break;
                default:
                    glob.Append(c);
                    break;
            }
        }

        if (inClass)
        {
            throw Invalid(pattern, "a '[' is not closed by ']'");
        }

        return glob.ToString();
    }

    private static ArgumentException Invalid(string pattern, string reason, Exception? inner = null) =>
        new($"exclude pattern '{pattern}' is not valid: {reason}", inner);

    private sealed record Rule(bool Negated, bool DirectoryOnly, bool MatchesWholePath, string? Literal, Regex? Regex)
    {
        public bool IsMatch(ReadOnlySpan<char> subject) =>
            Literal is not null ? subject.SequenceEqual(Literal) : Regex!.IsMatch(subject);
    }
}
