using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SpotDevBox.Builds;

/// <summary>
/// The running spotdevbox as an agent build: on Linux, the native AOT executable of a release archive is the agent
/// boxes install, so <c>setup</c> can publish it without a compiler. A JIT build (<c>dotnet run</c>, the dotnet tool)
/// or another system has no such executable: the user gives a release archive (<c>--agent-archive</c>).
/// </summary>
internal static class RunningBuild
{
    /// <summary>The runtime identifier of the running executable when it can serve as an agent build, else null and why not.</summary>
    public static (string? Rid, string? WhyNot) Describe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return (null, "this spotdevbox is not a Linux build");
        }

        if (RuntimeFeature.IsDynamicCodeSupported)
        {
            return (null, "this spotdevbox runs on the .NET runtime (dotnet run, or the dotnet tool), not the native build boxes install");
        }

        var rid = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "linux-x64",
            Architecture.Arm64 => "linux-arm64",
            _ => null as string,
        };
        return rid is null
            ? (null, $"boxes run linux-x64 or linux-arm64, and this spotdevbox is built for {RuntimeInformation.ProcessArchitecture}")
            : Environment.ProcessPath is { Length: > 0 } path && Path.GetFileName(path) == "spotdevbox"
                ? (rid, null)
                : (null, "the running executable is not named spotdevbox");
    }

    /// <summary>
    /// Packs the running executable (and the <c>config/</c> folder beside it, as a release archive holds it) into
    /// <paramref name="file"/>: a gzip tar with <c>spotdevbox</c> at its top, which <see cref="AgentArchive.InspectAsync"/> accepts.
    /// </summary>
    public static async Task PackAsync(string file, CancellationToken cancellationToken)
    {
        var executable = Environment.ProcessPath ?? throw new InvalidOperationException("the running executable's path is unknown");
        var directory = Path.GetDirectoryName(executable)!;
        await using var output = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            await AddFileAsync(tar, executable, "spotdevbox", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, cancellationToken);
            var config = Path.Combine(directory, "config");
            if (Directory.Exists(config))
            {
                foreach (var path in Directory.EnumerateFiles(config, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    if (new FileInfo(path).LinkTarget is null)
                    {
                        var name = "config/" + Path.GetRelativePath(config, path).Replace(Path.DirectorySeparatorChar, '/');
                        await AddFileAsync(tar, path, name, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, cancellationToken);
                    }
                }
            }
        }

        await output.FlushAsync(cancellationToken);
    }

    private static async Task AddFileAsync(TarWriter tar, string path, string name, UnixFileMode mode, CancellationToken cancellationToken)
    {
        await using var data = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = mode, DataStream = data };
        await tar.WriteEntryAsync(entry, cancellationToken);
    }
}
