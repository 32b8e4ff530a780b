using System.Diagnostics;
using System.Globalization;
using System.Text;
using SpotDevBox.Hosting;

namespace SpotDevBox.Repositories;

/// <summary>
/// Where a repository passphrase comes from, as restic users expect (docs/security.md, "Keys"): <c>--password-file</c>,
/// else <c>--password-command</c> (one of the two, never both), else <c>SPOTDEVBOX_PASSWORD</c>, else a prompt
/// without echo when stdin is a terminal. The passphrase is returned, never printed or logged; errors name the
/// source, never its content. Not yet used by a verb: the encrypted repository format will.
/// </summary>
internal sealed class PasswordSource(Func<string, string?> environment, IPasswordPrompt prompt)
{
    public const string EnvironmentVariable = "SPOTDEVBOX_PASSWORD";

    /// <summary>The first line is enough for any passphrase; a larger file is read no further.</summary>
    private const int MaxLine = 4096;

    public static PasswordSource ForThisProcess() => new(Environment.GetEnvironmentVariable, new ConsolePasswordPrompt());

    /// <param name="confirm">A new passphrase (a repository being created): a terminal prompt asks twice.</param>
    public async Task<string> ReadAsync(string? passwordFile, string? passwordCommand, CancellationToken cancellationToken, bool confirm = false)
    {
        if (passwordFile is not null && passwordCommand is not null)
        {
            throw new PasswordSourceException("give --password-file or --password-command, not both", ExitCodes.InvalidInput);
        }

        if (passwordFile is not null)
        {
            return await FromFileAsync(passwordFile, cancellationToken);
        }

        if (passwordCommand is not null)
        {
            return await FromCommandAsync(passwordCommand, cancellationToken);
        }

        if (environment(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        if (!prompt.IsTerminal)
        {
            throw new PasswordSourceException(
                $"no repository password: set {EnvironmentVariable}, or give --password-file or --password-command (stdin is not a terminal, so there is no prompt)",
                ExitCodes.InvalidInput);
        }

        var typed = prompt.Read(confirm ? "new repository password: " : "repository password: ");
        if (string.IsNullOrEmpty(typed))
        {
            throw new PasswordSourceException("the password is empty: type the repository's password", ExitCodes.InvalidInput);
        }

        return !confirm || prompt.Read("enter it again: ") == typed
            ? typed
            : throw new PasswordSourceException("the two passwords differ: nothing was created; try again", ExitCodes.InvalidInput);
    }

    private static async Task<string> FromFileAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new PasswordSourceException($"the password file {path} does not exist: give the path of a file holding the password", ExitCodes.InvalidInput);
        }

        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            if ((mode & others) != 0)
            {
                throw new PasswordSourceException(
                    string.Create(CultureInfo.InvariantCulture, $"the password file {path} is open to group or others (mode {Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0')}): chmod 600 it"),
                    ExitCodes.InvalidInput);
            }
        }

        string? line;
        try
        {
            using var reader = new StreamReader(path, new UTF8Encoding(false, true));
            line = await FirstLineAsync(reader, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            throw new PasswordSourceException($"the password file {path} cannot be read ({e.GetType().Name})", ExitCodes.InvalidInput);
        }

        return string.IsNullOrEmpty(line)
            ? throw new PasswordSourceException($"the password file {path} has no password on its first line", ExitCodes.InvalidInput)
            : line;
    }

    /// <summary>
    /// Runs the command without a shell (as restic does): the line is split into words by the quoting rules of
    /// <see cref="Split"/>; stdin and stderr stay the terminal's (a command may prompt), stdout's first line is
    /// the password. Use <c>sh -c '...'</c> for pipes or variables.
    /// </summary>
    private static async Task<string> FromCommandAsync(string commandLine, CancellationToken cancellationToken)
    {
        var words = Split(commandLine);
        if (words is null || words.Count == 0)
        {
            throw new PasswordSourceException("--password-command is empty or has an unclosed quote: give a program and its arguments", ExitCodes.InvalidInput);
        }

        var start = new ProcessStartInfo(words[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            StandardOutputEncoding = new UTF8Encoding(false),
        };
        foreach (var argument in words.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new System.ComponentModel.Win32Exception();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new PasswordSourceException($"--password-command could not start {words[0]}: check the program exists and may be run", ExitCodes.InvalidInput);
        }

        using (process)
        {
            try
            {
                var line = await FirstLineAsync(process.StandardOutput, cancellationToken);

                // Read to the end so a command that prints more is not stopped by a full pipe.
                var buffer = new char[4096];
                while (await process.StandardOutput.ReadAsync(buffer, cancellationToken) > 0)
                {
                }

                await process.WaitForExitAsync(cancellationToken);
                if (process.ExitCode != 0)
                {
                    throw new PasswordSourceException(
                        string.Create(CultureInfo.InvariantCulture, $"--password-command exited with code {process.ExitCode}; its output is not shown: run it yourself to see why"),
                        ExitCodes.Failure);
                }

                return string.IsNullOrEmpty(line)
                    ? throw new PasswordSourceException("--password-command printed no password on its first line", ExitCodes.Failure)
                    : line;
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
        }
    }

    private static async Task<string?> FirstLineAsync(TextReader reader, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var one = new char[1];
        while (line.Length <= MaxLine && await reader.ReadAsync(one, cancellationToken) == 1)
        {
            if (one[0] == '\n')
            {
                break;
            }

            line.Append(one[0]);
        }

        if (line.Length > 0 && line[^1] == '\r')
        {
            line.Length--;
        }

        return line.Length > MaxLine ? null : line.ToString();
    }

    /// <summary>
    /// Splits a command line into words as a POSIX shell would, with quoting only: whitespace separates words;
    /// '...' is literal; "..." is literal but for \" \\ \$ \`; a backslash outside quotes takes the next character.
    /// No variables, globs, pipes or redirections. Null when a quote is not closed.
    /// </summary>
    internal static List<string>? Split(string commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < commandLine.Length; i++)
        {
            var c = commandLine[i];
            switch (c)
            {
                case ' ' or '\t' or '\n':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }

                    continue;
                case '\'':
                    var close = commandLine.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        return null;
                    }

                    word.Append(commandLine, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    i++;
                    for (; i < commandLine.Length && commandLine[i] != '"'; i++)
                    {
                        if (commandLine[i] == '\\' && i + 1 < commandLine.Length && commandLine[i + 1] is '"' or '\\' or '$' or '`')
                        {
                            i++;
                        }

                        word.Append(commandLine[i]);
                    }

                    if (i >= commandLine.Length)
                    {
                        return null;
                    }

                    break;
                case '\\' when i + 1 < commandLine.Length:
                    word.Append(commandLine[++i]);
                    break;
                default:
                    word.Append(c);
                    break;
            }

            inWord = true;
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }
}

/// <summary>A password source refused: one line naming the source and what to do, with the exit code (2 for bad input, 1 for a command that failed).</summary>
internal sealed class PasswordSourceException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>The terminal prompt, behind an interface so the choice of source is tested without a terminal.</summary>
internal interface IPasswordPrompt
{
    /// <summary>True when stdin is a terminal: only then is there a prompt.</summary>
    bool IsTerminal { get; }

    /// <summary>Shows <paramref name="prompt"/> on stderr and reads a line without echoing it.</summary>
    string Read(string prompt);
}

internal sealed class ConsolePasswordPrompt : IPasswordPrompt
{
    public bool IsTerminal => !Console.IsInputRedirected;

    public string Read(string prompt)
    {
        Console.Error.Write(prompt);
        var typed = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (typed.Length > 0)
                {
                    typed.Length--;
                }

                continue;
            }

            if (!char.IsControl(key.KeyChar))
            {
                typed.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return typed.ToString();
    }
}
