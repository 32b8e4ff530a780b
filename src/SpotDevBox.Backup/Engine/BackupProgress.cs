namespace SpotDevBox.Backup.Engine;

/// <summary>Live counters of a running backup, safe to read from another thread (the progress bar polls them).</summary>
public sealed class BackupProgress
{
    private long _filesNew;
    private long _filesChanged;
    private long _filesUnchanged;
    private long _dirs;
    private long _bytesTotal;
    private long _bytesRead;
    private long _bytesAdded;
    private long _bytesUploaded;
    private long _packsUploaded;
    private long _skipped;
    private long _bytesUnchanged;

    public long FilesNew => Interlocked.Read(ref _filesNew);
    public long FilesChanged => Interlocked.Read(ref _filesChanged);
    public long FilesUnchanged => Interlocked.Read(ref _filesUnchanged);
    public long Files => FilesNew + FilesChanged + FilesUnchanged;
    public long Dirs => Interlocked.Read(ref _dirs);
    public long BytesTotal => Interlocked.Read(ref _bytesTotal);
    public long BytesRead => Interlocked.Read(ref _bytesRead);
    public long BytesAdded => Interlocked.Read(ref _bytesAdded);
    public long BytesUploaded => Interlocked.Read(ref _bytesUploaded);
    public long PacksUploaded => Interlocked.Read(ref _packsUploaded);
    public long Skipped => Interlocked.Read(ref _skipped);
    /// <summary>Bytes dealt with so far: read, or known unchanged without reading.</summary>
    public long BytesProcessed => Interlocked.Read(ref _bytesRead) + Interlocked.Read(ref _bytesUnchanged);

    internal void FileNew(long size) { Interlocked.Increment(ref _filesNew); Interlocked.Add(ref _bytesTotal, size); }
    internal void FileChanged(long size) { Interlocked.Increment(ref _filesChanged); Interlocked.Add(ref _bytesTotal, size); }
    internal void FileUnchanged(long size) { Interlocked.Increment(ref _filesUnchanged); Interlocked.Add(ref _bytesTotal, size); Interlocked.Add(ref _bytesUnchanged, size); }
    internal void Dir() => Interlocked.Increment(ref _dirs);
    internal void Read(long bytes) => Interlocked.Add(ref _bytesRead, bytes);
    internal void Added(long bytes) => Interlocked.Add(ref _bytesAdded, bytes);
    internal void Uploaded(long bytes) { Interlocked.Add(ref _bytesUploaded, bytes); Interlocked.Increment(ref _packsUploaded); }
    internal void Skip() => Interlocked.Increment(ref _skipped);
}
