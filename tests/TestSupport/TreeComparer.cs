using System.Security.Cryptography;
using Mono.Unix.Native;

namespace TestSupport;

/// <summary>Compares two trees byte for byte and metadata for metadata; returns the differences.</summary>
public static class TreeComparer
{
    public static List<string> Compare(string expected, string actual, bool compareOwners = false)
    {
        var differences = new List<string>();
        var left = Describe(expected, compareOwners);
        var right = Describe(actual, compareOwners);
        foreach (var (path, description) in left)
        {
            if (!right.TryGetValue(path, out var other))
            {
                differences.Add($"missing: {path}");
            }
            else if (description != other)
            {
                differences.Add($"differs: {path}: expected {description}, got {other}");
            }
        }

        differences.AddRange(right.Keys.Where(k => !left.ContainsKey(k)).Select(k => $"extra: {k}"));

        // Hard links: the same groups of paths must share an inode on both sides.
        var leftGroups = HardLinkGroups(expected);
        var rightGroups = HardLinkGroups(actual);
        foreach (var group in leftGroups.Where(g => !rightGroups.Contains(g)))
        {
            differences.Add($"hard links not preserved: {group}");
        }

        return differences;
    }

    /// <summary>One line per entry: type, permission bits, mtime in ns, size and content hash or link target.</summary>
    public static SortedDictionary<string, string> Describe(string root, bool owners = false)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false }))
        {
            var rel = Path.GetRelativePath(root, path);
            if (Syscall.lstat(path, out var st) != 0)
            {
                throw new IOException($"lstat {path}");
            }

            var type = st.st_mode & FilePermissions.S_IFMT;
            var mode = Convert.ToString((int)((uint)st.st_mode & 0xFFF), 8);
            var owner = owners ? $" {st.st_uid}:{st.st_gid}" : "";
            var mtime = st.st_mtime * 1_000_000_000 + st.st_mtime_nsec;
            result[rel] = type switch
            {
                FilePermissions.S_IFDIR => $"dir {mode} {mtime}{owner}",
                FilePermissions.S_IFLNK => $"symlink -> {new FileInfo(path).LinkTarget}{owner}",
                FilePermissions.S_IFREG => $"file {mode} {mtime} {st.st_size} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))[..16]}{owner}",
                _ => $"other {type}",
            };
        }

        return result;
    }

    private static HashSet<string> HardLinkGroups(string root)
    {
        var byInode = new Dictionary<ulong, List<string>>();
        foreach (var path in Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (Syscall.lstat(path, out var st) == 0 && (st.st_mode & FilePermissions.S_IFMT) == FilePermissions.S_IFREG && st.st_nlink > 1)
            {
                if (!byInode.TryGetValue(st.st_ino, out var list))
                {
                    byInode[st.st_ino] = list = [];
                }

                list.Add(Path.GetRelativePath(root, path));
            }
        }

        return byInode.Values.Where(l => l.Count > 1).Select(l => string.Join(" = ", l.Order(StringComparer.Ordinal))).ToHashSet();
    }
}

/// <summary>A temporary directory removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string? prefix = null)
    {
        Path = Directory.CreateTempSubdirectory(prefix ?? "spotdevbox-test-").FullName;
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
        catch (UnauthorizedAccessException)
        {
            // best effort
        }
    }
}
