using System.Text;
using Mono.Unix.Native;

namespace TestSupport;

/// <summary>
/// Writes a seeded random working tree: nested directories, unicode names, empty files and
/// directories, small source-like files, a few larger binaries, symlinks (relative, absolute,
/// dangling), hard links, assorted permission bits and nanosecond mtimes.
/// </summary>
public sealed class TreeGenerator(int seed)
{
    private static readonly string[] NameParts = ["src", "lib", "über", "naïve", "日本語", "emoji-🚀", "with space", "a", "b", "test", "docs", ".hidden", "Ωmega", "x"];
    private static readonly string[] Extensions = [".cs", ".txt", ".md", ".json", "", ".bin", ".py"];
    private readonly Random _random = new(seed);

    public int Files { get; set; } = 200;
    public int MaxDepth { get; set; } = 6;
    public int LargeFiles { get; set; } = 2;
    public int LargeFileSize { get; set; } = 3 * 1024 * 1024;

    public void Generate(string root)
    {
        Directory.CreateDirectory(root);
        var dirs = new List<string> { root };
        for (var i = 0; i < Files / 5 + 1; i++)
        {
            var parent = dirs[_random.Next(dirs.Count)];
            if (Depth(root, parent) >= MaxDepth)
            {
                continue;
            }

            var dir = Path.Combine(parent, Name(i));
            Directory.CreateDirectory(dir);
            dirs.Add(dir);
        }

        Directory.CreateDirectory(Path.Combine(root, "empty-dir"));
        Directory.CreateDirectory(Path.Combine(root, "nested-empty", "deeper", "deepest"));
        var files = new List<string>();
        for (var i = 0; i < Files; i++)
        {
            var dir = dirs[_random.Next(dirs.Count)];
            var path = Path.Combine(dir, Name(i) + "-f" + i + Extensions[_random.Next(Extensions.Length)]);
            var size = _random.Next(10) == 0 ? 0 : _random.Next(1, 16 * 1024);
            File.WriteAllBytes(path, SourceLike(size));
            files.Add(path);
        }

        for (var i = 0; i < LargeFiles; i++)
        {
            var path = Path.Combine(root, $"large-{i}.bin");
            var bytes = new byte[LargeFileSize];
            _random.NextBytes(bytes);
            File.WriteAllBytes(path, bytes);
            files.Add(path);
        }

        // Permissions and nanosecond times.
        foreach (var file in files)
        {
            var mode = _random.Next(4) switch { 0 => "0755", 1 => "0600", 2 => "0640", _ => "0644" };
            Check(Syscall.chmod(file, NativeConvert.FromOctalPermissionString(mode)), "chmod");
            SetMtime(file, 1_600_000_000L * 1_000_000_000 + _random.NextInt64(0, 100_000_000_000_000_000));
        }

        Check(Syscall.chmod(dirs[^1], NativeConvert.FromOctalPermissionString("0750")), "chmod");

        // Symlinks: relative, absolute outside the tree, dangling, to a directory.
        var target = files[0];
        File.CreateSymbolicLink(Path.Combine(root, "link-relative"), Path.GetRelativePath(root, target));
        File.CreateSymbolicLink(Path.Combine(root, "link-absolute"), "/usr/bin/env");
        File.CreateSymbolicLink(Path.Combine(root, "link-dangling"), "does/not/exist");
        Directory.CreateSymbolicLink(Path.Combine(root, "link-to-dir"), "empty-dir");

        // Hard links within the tree.
        Check(Syscall.link(files[1], Path.Combine(root, "hardlink-a")), "link");
        Check(Syscall.link(files[1], Path.Combine(dirs[^1], "hardlink-b")), "link");
    }

    public byte[] SourceLike(int size)
    {
        var sb = new StringBuilder(size + 64);
        string[] words = ["public", "sealed", "class", "return", "var", "await", "if", "else", "string", "int", "foreach", "// note", "{", "}", "(", ")", ";", "\n", "    "];
        while (sb.Length < size)
        {
            sb.Append(words[_random.Next(words.Length)]).Append(' ');
            if (_random.Next(8) == 0)
            {
                sb.Append(_random.Next()).Append('\n');
            }
        }

        return Encoding.UTF8.GetBytes(sb.ToString())[..size];
    }

    private static void Check(int result, string call)
    {
        if (result != 0)
        {
            throw new IOException($"{call} failed: {Stdlib.GetLastError()}");
        }
    }

    private string Name(int i) => NameParts[_random.Next(NameParts.Length)] + "-" + i;

    private static int Depth(string root, string dir) => Path.GetRelativePath(root, dir).Split('/').Length;

    public static void SetMtime(string path, long ns)
    {
        var times = new[]
        {
            new Timespec { tv_sec = ns / 1_000_000_000, tv_nsec = ns % 1_000_000_000 },
            new Timespec { tv_sec = ns / 1_000_000_000, tv_nsec = ns % 1_000_000_000 },
        };
        if (Syscall.utimensat(Syscall.AT_FDCWD, path, times, AtFlags.AT_SYMLINK_NOFOLLOW) != 0)
        {
            throw new IOException($"utimensat {path}: {Stdlib.GetLastError()}");
        }
    }
}
