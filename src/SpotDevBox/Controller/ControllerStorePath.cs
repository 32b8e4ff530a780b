namespace SpotDevBox.Controller;

/// <summary>Where the controller's database lives when the configuration names no other file.</summary>
internal static class ControllerStorePath
{
    public const string FileName = "spotdevbox.db";

    /// <summary>
    /// Beside the configuration file (<paramref name="configFile"/>, the value of SPOTDEVBOX_CONFIG) when there
    /// is one; else under the XDG state directory, as the log files are; else, on Windows, under the local
    /// application data folder.
    /// </summary>
    public static string Default(string? configFile) =>
        Default(configFile, Environment.GetEnvironmentVariable, Hosting.UserFolders.Path, OperatingSystem.IsWindows());

    internal static string Default(
        string? configFile,
        Func<string, string?> variable,
        Func<Environment.SpecialFolder, string> folder,
        bool windows)
    {
        ArgumentNullException.ThrowIfNull(variable);
        ArgumentNullException.ThrowIfNull(folder);
        if (!string.IsNullOrEmpty(configFile))
        {
            // Relative to the working directory, as the host reads the file.
            var directory = Path.GetDirectoryName(Path.GetFullPath(configFile))!;
            return Path.Join(directory, FileName);
        }

        return Path.Join(Hosting.StateDirectory.Of(variable, folder, windows), FileName);
    }
}
