namespace SpotDevBox.Core.Idle;

/// <summary>
/// Interactive logins from /run/utmp whose process is still alive, judged by when their terminal last saw
/// input: the access time of /dev/pts/N (or /dev/ttyN), which the tty layer updates on every keystroke and
/// which is also what `w` shows as IDLE. Output alone (a `tail -f`) does not count.
/// </summary>
public sealed class SessionSignal(HostRoot root, SessionSignalOptions options) : IIdleSignal
{
    public string Name => "sessions";

    public bool Enabled => options.Enabled;

    public ValueTask<SignalReading> SampleAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var live = Utmp.ReadUserProcesses(root.Resolve("/run/utmp"))
            .Where(e => e.Line.Length > 0 && ProcFs.ProcessExists(root, e.Pid))
            .ToList();
        if (live.Count == 0)
        {
            return ValueTask.FromResult(SignalReading.Inactive(Name, "no login sessions"));
        }

        var active = new List<string>();
        var quiet = new List<string>();
        foreach (var session in live)
        {
            var describe = Describe(session);
            var device = root.Resolve($"/dev/{session.Line}");
            if (!File.Exists(device))
            {
                quiet.Add($"{describe} has no terminal");
                continue;
            }

            var lastInput = new DateTimeOffset(File.GetLastAccessTimeUtc(device), TimeSpan.Zero);
            var ago = now - lastInput;
            var text = $"{describe} typed {Text.Minutes(ago)} ago";
            (ago < options.InputWindow ? active : quiet).Add(text);
        }

        return ValueTask.FromResult(active.Count > 0
            ? SignalReading.ActiveBecause(Name, Text.Join(active))
            : SignalReading.Inactive(Name, Text.Join(quiet)));
    }

    private static string Describe(UtmpEntry session) => session.Host.Length > 0
        ? $"ssh session {session.Line} ({session.User} from {session.Host})"
        : $"login session {session.Line} ({session.User})";
}
