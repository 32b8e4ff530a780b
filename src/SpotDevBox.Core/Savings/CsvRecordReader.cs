using System.Text;

namespace SpotDevBox.Core.Savings;

/// <summary>
/// RFC 4180 records from a text stream, one at a time, through a fixed buffer: quoted fields may hold commas,
/// doubled quotes and line breaks; CRLF and LF both end a record. Fields a caller does not need can be skipped
/// without building their strings (an EC2 offer has ~90 columns and millions of rows; a few are read).
/// </summary>
public sealed class CsvRecordReader(TextReader reader)
{
    private readonly char[] _buffer = new char[64 * 1024];
    private readonly StringBuilder _field = new();
    private int _position;
    private int _length;
    private bool _ended;
    private long _line = 1;

    /// <summary>The line the last record returned started on (1-based).</summary>
    public long RecordLine { get; private set; }

    /// <summary>Reads the next record into <paramref name="fields"/>; false at the end of the input.</summary>
    /// <param name="keep">Which fields to build (by position); the others are added as empty strings. Null: all.</param>
    /// <exception cref="InvalidDataException">A quoted field is not closed before the input ends.</exception>
    public async ValueTask<bool> ReadAsync(List<string> fields, IReadOnlyList<bool>? keep, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fields);
        fields.Clear();
        _field.Clear();
        RecordLine = _line;
        var quoted = false;
        var quoteInQuoted = false;
        var fieldStart = true;
        var any = false;
        var keeping = keep is null || (keep.Count > 0 && keep[0]);
        while (true)
        {
            if (_position == _length)
            {
                if (_ended || !await FillAsync(cancellationToken))
                {
                    if (quoted && !quoteInQuoted)
                    {
                        throw new InvalidDataException($"line {RecordLine}: a quoted field is not closed before the end of the input (a cut-off download?)");
                    }

                    if (!any)
                    {
                        return false;
                    }

                    fields.Add(_field.ToString());
                    return true;
                }
            }

            var c = _buffer[_position++];
            any = true;
            if (quoted)
            {
                if (!quoteInQuoted)
                {
                    if (c == '"')
                    {
                        quoteInQuoted = true;
                    }
                    else
                    {
                        if (c == '\n')
                        {
                            _line++;
                        }

                        if (keeping)
                        {
                            _field.Append(c);
                        }
                    }

                    continue;
                }

                quoteInQuoted = false;
                if (c == '"')
                {
                    if (keeping)
                    {
                        _field.Append('"');
                    }

                    continue;
                }

                // The quote closed the field; c is what follows it.
                quoted = false;
            }

            switch (c)
            {
                case ',':
                    fields.Add(keeping ? _field.ToString() : "");
                    _field.Clear();
                    fieldStart = true;
                    keeping = keep is null || (fields.Count < keep.Count && keep[fields.Count]);
                    break;
                case '\n':
                    _line++;
                    fields.Add(keeping ? _field.ToString() : "");
                    return true;
                case '\r':
                    break;
                case '"' when fieldStart:
                    quoted = true;
                    fieldStart = false;
                    break;
                default:
                    fieldStart = false;
                    if (keeping)
                    {
                        _field.Append(c);
                    }

                    break;
            }
        }
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        _length = await reader.ReadAsync(_buffer.AsMemory(), cancellationToken);
        _position = 0;
        _ended = _length == 0;
        return !_ended;
    }
}
