using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Launch;

namespace SpotDevBox.Builds;

/// <summary>A build file that passed <see cref="AgentArchive.InspectAsync"/>: what the manifest will say of it.</summary>
internal sealed record InspectedBuild(string Rid, CpuArchitecture Architecture, string Path, string Sha256, long Size)
{
    public string ArchitectureName => LaunchCandidates.Name(Architecture);
}

/// <summary>
/// Checks an agent build before anything is uploaded: a .tar.gz whose top holds an executable
/// <c>spotdevbox</c> for the build's architecture, as the box's install script unpacks it into
/// /opt/spotdevbox and starts it. Reads the file as a stream: a build is tens of megabytes.
/// </summary>
internal static class AgentArchive
{
    /// <summary>Far above a self-contained publish (~40-80 MB) and below what one array and one PUT hold.</summary>
    public const long MaxSize = 1L << 30;

    private const string Executable = "spotdevbox";

    /// <summary>ELF e_machine values (the System V ABI): EM_X86_64 and EM_AARCH64.</summary>
    private static readonly Dictionary<CpuArchitecture, ushort> ElfMachine = new()
    {
        [CpuArchitecture.X64] = 62,
        [CpuArchitecture.Arm64] = 183,
    };

    /// <summary>The file's SHA-256 and size, once it is known to be a build for <paramref name="rid"/>.</summary>
    /// <param name="rid">The runtime the build is for.</param>
    /// <param name="path">The .tar.gz.</param>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <param name="given">How the build was named, for the messages: <c>--build RID=FILE</c> unless said otherwise.</param>
    /// <exception cref="ArgumentException">Not a build this RID's boxes can install; the message says why.</exception>
    public static async Task<InspectedBuild> InspectAsync(string rid, string path, CancellationToken cancellationToken, string? given = null)
    {
        given ??= $"--build {rid}={path}";
        if (!AgentBuildManifest.Rids.TryGetValue(rid, out var architecture))
        {
            throw new ArgumentException($"--build {rid}=...: the runtime identifier must be one of {string.Join(", ", AgentBuildManifest.Rids.Keys)}");
        }

        CheckFile(path, given);
        await using var stream = OpenRead(path);
        var problem = await CheckTarAsync(stream, architecture, cancellationToken);
        if (problem is not null)
        {
            throw new ArgumentException($"{given}: {problem}");
        }

        stream.Position = 0;
        var sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        return new InspectedBuild(rid, architecture, path, sha256, stream.Length);
    }

    /// <summary>
    /// The runtime an agent build or release archive (spotdevbox-VERSION-linux-x64.tar.gz) is for, read from the ELF
    /// header of the <c>spotdevbox</c> executable at its top: x86-64 is linux-x64, aarch64 linux-arm64. The name of the
    /// file says nothing here. Only finds the runtime: <see cref="InspectAsync"/> then checks the whole archive.
    /// </summary>
    /// <exception cref="ArgumentException">No such file, not a .tar.gz with <c>spotdevbox</c> at its top, or an
    /// executable for another machine; the message begins with <paramref name="given"/> (default: the path).</exception>
    public static async Task<string> RuntimeOfAsync(string path, CancellationToken cancellationToken, string? given = null)
    {
        given ??= path;
        CheckFile(path, given);
        await using var stream = OpenRead(path);
        var (machine, problem) = await TopExecutableMachineAsync(stream, cancellationToken);
        if (problem is not null)
        {
            throw new ArgumentException($"{given}: {problem}");
        }

        var architecture = ElfMachine.FirstOrDefault(m => m.Value == machine);
        if (architecture.Value != machine)
        {
            throw new ArgumentException($"{given}: '{Executable}' is built for ELF machine {machine}, neither x86-64 (linux-x64) nor aarch64 (linux-arm64); boxes run only those");
        }

        return AgentBuildManifest.Rids.Single(r => r.Value == architecture.Key).Key;
    }

    private static void CheckFile(string path, string given)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new ArgumentException($"{given}: there is no such file");
        }

        if (file.Length > MaxSize)
        {
            throw new ArgumentException($"{given}: {file.Length} bytes is more than an agent build can be ({MaxSize} bytes)");
        }
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>The ELF machine of the executable <c>spotdevbox</c> at the top of a gzip tar, else what is wrong.</summary>
    private static async Task<(ushort? Machine, string? Problem)> TopExecutableMachineAsync(Stream stream, CancellationToken cancellationToken)
    {
        var magic = new byte[2];
        if (await stream.ReadAtLeastAsync(magic, 2, throwOnEndOfStream: false, cancellationToken) < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        {
            return (null, "not a gzip file; an agent build is a .tar.gz (a release's spotdevbox-VERSION-linux-x64.tar.gz, or tar -C PUBLISH_DIR -czf FILE .)");
        }

        stream.Position = 0;
        try
        {
            await using var gzip = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
            await using var tar = new TarReader(gzip, leaveOpen: true);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                var name = (entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name).TrimEnd('/');
                if (name != Executable || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    continue;
                }

                return await ElfMachineAsync(entry.DataStream, cancellationToken) is { } machine
                    ? (machine, null)
                    : (null, $"'{entry.Name}' is not a 64-bit Linux (ELF) executable, so its runtime cannot be told");
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            return (null, $"not a gzip-compressed tar archive ({e.Message})");
        }

        return (null, $"no '{Executable}' file at the top of the archive, so its runtime cannot be told");
    }

    /// <summary>Null when the stream is a gzip tar with the right <c>spotdevbox</c> at its top, else what is wrong.</summary>
    private static async Task<string?> CheckTarAsync(Stream stream, CpuArchitecture architecture, CancellationToken cancellationToken)
    {
        var magic = new byte[2];
        if (await stream.ReadAtLeastAsync(magic, 2, throwOnEndOfStream: false, cancellationToken) < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        {
            return "not a gzip file; an agent build is a .tar.gz (tar -C PUBLISH_DIR -czf FILE .)";
        }

        stream.Position = 0;
        var found = false;
        try
        {
            await using var gzip = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
            await using var tar = new TarReader(gzip, leaveOpen: true);
            var entries = 0;
            // Every entry is read, so a truncated or corrupt archive is refused here rather than on the box.
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                entries++;
                var name = (entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name).TrimEnd('/');
                if (name.StartsWith('/') || name.Split('/').Contains(".."))
                {
                    return $"the entry '{entry.Name}' would unpack outside the agent's directory";
                }

                if (name != Executable)
                {
                    continue;
                }

                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    return $"'{entry.Name}' is a {entry.EntryType} entry, not the executable file";
                }

                if ((entry.Mode & UnixFileMode.UserExecute) == 0)
                {
                    return $"'{entry.Name}' is not executable (mode {Convert.ToString((int)entry.Mode, 8)})";
                }

                var machine = await ElfMachineAsync(entry.DataStream, cancellationToken);
                if (machine is null)
                {
                    return $"'{entry.Name}' is not a 64-bit Linux (ELF) executable; publish with -r linux-x64 or -r linux-arm64 --self-contained";
                }

                if (machine != ElfMachine[architecture])
                {
                    var built = ElfMachine.FirstOrDefault(m => m.Value == machine);
                    return $"'{entry.Name}' is built for {(built.Value == machine ? LaunchCandidates.Name(built.Key) : $"ELF machine {machine}")}, not {LaunchCandidates.Name(architecture)}";
                }

                found = true;
            }

            if (entries == 0)
            {
                return "an empty tar archive";
            }

            // The rest of the gzip stream too: its checksum is at the very end.
            await gzip.CopyToAsync(Stream.Null, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            return $"not a gzip-compressed tar archive ({e.Message})";
        }

        return found ? null : $"no '{Executable}' at the top of the archive; the install script starts /opt/spotdevbox/{Executable} (tar -C PUBLISH_DIR -czf FILE .)";
    }

    /// <summary>e_machine of a little-endian 64-bit ELF file, or null when the data is not one.</summary>
    private static async Task<ushort?> ElfMachineAsync(Stream? data, CancellationToken cancellationToken)
    {
        if (data is null)
        {
            return null;
        }

        var header = new byte[20];
        if (await data.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken) < header.Length)
        {
            return null;
        }

        // \x7fELF, ELFCLASS64, ELFDATA2LSB.
        if (header[0] != 0x7f || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F' || header[4] != 2 || header[5] != 1)
        {
            return null;
        }

        return BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(18, 2));
    }
}
