namespace SpotDevBox.Hosting;

/// <summary>The user's folders as the environment names them, whether or not they exist yet.</summary>
internal static class UserFolders
{
    /// <summary>
    /// <see cref="Environment.GetFolderPath(Environment.SpecialFolder)"/> answers "" for a home that does not exist
    /// (HOME=/nonexistent under a service manager, a fresh user): joined with ".local/state" that became a path
    /// relative to the working directory, and the CLI wrote its state there. The folder is created when needed.
    /// </summary>
    public static string Path(Environment.SpecialFolder folder) =>
        Environment.GetFolderPath(folder, Environment.SpecialFolderOption.DoNotVerify);
}
