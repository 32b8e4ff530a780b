using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace SpotDevBox.Tests.Cli;

/// <summary>Small hand-made agent builds: .tar.gz files shaped like a publish directory packed with tar -C DIR -czf FILE .</summary>
internal static class AgentBuildFiles
{
    /// <summary>ELF e_machine: EM_X86_64 and EM_AARCH64.</summary>
    public const ushort X64 = 62;
    public const ushort Arm64 = 183;

    private const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>The first 64 bytes of a 64-bit little-endian ELF executable for <paramref name="machine"/>, then some filler.</summary>
    public static byte[] Elf(ushort machine)
    {
        var bytes = new byte[4096];
        byte[] ident = [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1];
        ident.CopyTo(bytes, 0);
        bytes[16] = 2; // ET_EXEC
        bytes[18] = (byte)(machine & 0xff);
        bytes[19] = (byte)(machine >> 8);
        for (var i = 64; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(i * 7);
        }

        return bytes;
    }

    /// <summary>A build for <paramref name="machine"/>: ./, ./spotdevbox (executable), ./spotdevbox.dll and ./config/spotdevbox.json.</summary>
    public static string Build(string path, ushort machine, string marker = "")
    {
        Write(path,
            ("./", TarEntryType.Directory, Executable, null),
            ("./spotdevbox", TarEntryType.RegularFile, Executable, Elf(machine)),
            ("./spotdevbox.dll", TarEntryType.RegularFile, Readable, [.. "MZ not really an assembly "u8, .. System.Text.Encoding.UTF8.GetBytes(marker)]),
            ("./config/", TarEntryType.Directory, Executable, null),
            ("./config/spotdevbox.json", TarEntryType.RegularFile, Readable, "{}\n"u8.ToArray()));
        return path;
    }

    /// <summary>A .tar.gz of exactly these entries (name, type, mode, content).</summary>
    public static string Write(string path, params (string Name, TarEntryType Type, UnixFileMode Mode, byte[]? Content)[] entries)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var (name, type, mode, content) in entries)
        {
            var entry = new PaxTarEntry(type, name) { Mode = mode };
            if (content is not null)
            {
                entry.DataStream = new MemoryStream(content);
            }

            tar.WriteEntry(entry);
        }

        return path;
    }

    /// <summary>Gzip of arbitrary bytes: a .gz that is no tar.</summary>
    public static string Gzip(string path, byte[] content)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(content);
        return path;
    }

    /// <summary>SHA-256 of the file as sha256sum prints it, computed here and not by the code under test.</summary>
    public static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));
}
