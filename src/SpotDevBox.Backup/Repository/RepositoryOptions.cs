namespace SpotDevBox.Backup.Repository;

/// <summary>Tuning of the engine, bound from the "Backup" configuration section and overridable per command.</summary>
public sealed class BackupEngineOptions
{
    public const string SectionName = "Backup";

    /// <summary>Gitignore-style patterns excluded from every backup, in addition to --exclude.</summary>
    public IList<string> Excludes { get; } = [];

    /// <summary>Files read, chunked, hashed and compressed at once (more than cores: small files wait on I/O, not CPU).</summary>
    public int ReadConcurrency { get; set; } = Math.Clamp(Environment.ProcessorCount * 2, 4, 16);

    /// <summary>Objects uploaded or downloaded at once (each upload holds one pack buffer in memory).</summary>
    public int TransferConcurrency { get; set; } = 5;

    /// <summary>Target size of a pack object in MiB (packs close at this size; the last one is smaller).</summary>
    public int PackSizeMiB { get; set; } = 8;

    /// <summary>zstd level, 1 (fastest) to 19.</summary>
    public int CompressionLevel { get; set; } = 3;

    /// <summary>Where immutable repository objects (index files, tree packs) and restore records are cached. Empty: the user's cache folder.</summary>
    public string CacheDirectory { get; set; } = "";

    /// <summary>A lock not refreshed for this long is stale and no longer blocks prune.</summary>
    public TimeSpan StaleLockAfter { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// A crash-safety drill: wait this long after the last pack and the index are durable and before the
    /// snapshot manifest is written, so an operator (or the test suite) can kill the process at exactly
    /// that moment and see that nothing is lost. Zero (the default) in normal use.
    /// </summary>
    public TimeSpan PauseBeforeSnapshot { get; set; } = TimeSpan.Zero;

    /// <summary>A copy with another cache directory; every other setting comes along, including ones added later.</summary>
    public BackupEngineOptions WithCacheDirectory(string cacheDirectory)
    {
        var copy = (BackupEngineOptions)MemberwiseClone();
        copy.CacheDirectory = cacheDirectory;
        return copy;
    }

    public string ResolveCacheDirectory()
    {
        if (!string.IsNullOrWhiteSpace(CacheDirectory))
        {
            return Path.GetFullPath(CacheDirectory);
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var baseDir = !string.IsNullOrEmpty(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify), ".cache");
        return Path.Combine(baseDir, "spotdevbox");
    }
}
