using System.Text;

namespace SpotDevBox.Hosting;

/// <summary>
/// Stands between the verbs and stderr, passing everything on, and keeps the last "spotdevbox: ..." line a verb
/// printed (not a warning): a verb that ends with a code of its own rather than an exception has said why on that
/// line, and the log file records it as the failure.
/// </summary>
internal sealed class ErrorLineRecorder(TextWriter inner) : TextWriter
{
    private readonly Lock _gate = new();
    private readonly StringBuilder _line = new();
    private string? _last;

    public override Encoding Encoding => inner.Encoding;

    /// <summary>The last complete error line, without its "spotdevbox: " prefix; null when there was none.</summary>
    public string? LastErrorLine
    {
        get
        {
            lock (_gate)
            {
                return _last;
            }
        }
    }

    public override void Write(char value)
    {
        lock (_gate)
        {
            Record(value);
        }

        inner.Write(value);
    }

    public override void Write(string? value)
    {
        lock (_gate)
        {
            foreach (var c in value ?? "")
            {
                Record(c);
            }
        }

        inner.Write(value);
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_gate)
        {
            for (var i = index; i < index + count; i++)
            {
                Record(buffer[i]);
            }
        }

        inner.Write(buffer, index, count);
    }

    public override void WriteLine(string? value)
    {
        Write(value);
        WriteLine();
    }

    public override void WriteLine() => Write(CoreNewLine, 0, CoreNewLine.Length);

    public override void Flush() => inner.Flush();

    private void Record(char c)
    {
        if (c == '\n')
        {
            var line = _line.ToString().TrimEnd('\r');
            _line.Clear();
            if (line.StartsWith("spotdevbox: ", StringComparison.Ordinal) && !line.StartsWith("spotdevbox: warning:", StringComparison.Ordinal))
            {
                _last = line["spotdevbox: ".Length..];
            }
        }
        else if (_line.Length < 4096)
        {
            _line.Append(c);
        }
    }
}
