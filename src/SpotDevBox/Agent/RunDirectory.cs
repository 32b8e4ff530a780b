namespace SpotDevBox.Agent;

/// <summary>
/// The agent's run directory (Agent:RunDirectory, /run/spotdevbox on a box): status.json, the login notices and
/// the lease directory. Only root writes in it, everyone reads it (0755): a local user who could create names
/// in it could plant a FIFO or a symbolic link where the root agent writes or reads. systemd creates it with this
/// mode (RuntimeDirectoryMode); the agent creates it the same way when it runs without systemd, and takes
/// group and world write away from one left behind by an older unit (mode 1777).
/// </summary>
internal static class RunDirectory
{
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private const UnixFileMode Writable = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite | UnixFileMode.StickyBit;

    public static void Ensure(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        var directory = Directory.CreateDirectory(path, Mode);
        if ((directory.UnixFileMode & Writable) != 0)
        {
            File.SetUnixFileMode(path, Mode);
        }
    }
}
