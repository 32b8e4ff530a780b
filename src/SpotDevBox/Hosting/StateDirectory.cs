namespace SpotDevBox.Hosting;

/// <summary>SpotDevBox's folder for state it keeps per user: the controller's database, refreshed prices, logs.</summary>
internal static class StateDirectory
{
    /// <summary>
    /// <c>$XDG_STATE_HOME/spotdevbox</c> when the variable holds an absolute path (the XDG spec: a relative one is
    /// invalid and ignored), else <c>~/.local/state/spotdevbox</c>; on Windows the local application data folder.
    /// Relative only when no home is known at all: callers that must not write there check.
    /// </summary>
    public static string Of(Func<string, string?> variable, Func<Environment.SpecialFolder, string> folder, bool windows)
    {
        ArgumentNullException.ThrowIfNull(variable);
        ArgumentNullException.ThrowIfNull(folder);
        var state = variable("XDG_STATE_HOME");
        if (!string.IsNullOrEmpty(state) && Path.IsPathFullyQualified(state))
        {
            return Path.Join(state, "spotdevbox");
        }

        return windows
            ? Path.Join(folder(Environment.SpecialFolder.LocalApplicationData), "spotdevbox")
            : Path.Join(folder(Environment.SpecialFolder.UserProfile), ".local", "state", "spotdevbox");
    }

    /// <summary>For this process: its environment and its user's folders.</summary>
    public static string Current => Of(Environment.GetEnvironmentVariable, UserFolders.Path, OperatingSystem.IsWindows());
}
