using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Agent;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Repositories;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Idle;
using TestSupport;

namespace SpotDevBox.Tests.Agent;

/// <summary>
/// The agent's object graph, wired by hand as AgentRegistration wires it, around a box that is a local
/// directory (no S3, no metadata service): the real storage, repository and backup engine.
/// </summary>
internal sealed class AgentParts : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-agent-parts-");
    private readonly Lazy<Wiring> _wiring;

    public AgentParts()
    {
        Home = _temp.Sub("home");
        Directory.CreateDirectory(Home);
        Options = new AgentOptions
        {
            Box = _temp.Sub("box/alice"),
            Wall = false,
            HostKeys = false,
            RunDirectory = _temp.Sub("run"),
            StateDirectory = _temp.Sub("state"),
            PasswordFile = TestKeys.WritePasswordFile(_temp.Sub("secrets/repository-password")),
        };
        Options.Paths.Add(Home);
        // The box's place exists, as its bucket does: a local-directory store never creates its own root.
        Directory.CreateDirectory(Options.Box);
        EngineOptions = new BackupEngineOptions { CacheDirectory = _temp.Sub("cache") };
        _wiring = new(() => new Wiring(this));
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 6, 2, 9, 0, 0, TimeSpan.Zero));

    /// <summary>Change before the first use of a part: the parts read it when they are built.</summary>
    public AgentOptions Options { get; }

    public BackupEngineOptions EngineOptions { get; }

    public InterruptionOptionsHolder Interruption { get; } = new();

    /// <summary>The file system the backups see; a test may gate it.</summary>
    public IFileSystemMetadata FileSystem { get; set; } = new UnixFileSystem();

    public RecordingLoggerFactory Loggers { get; } = new();

    public string Home { get; }

    public string BoxDirectory => Options.Box;

    public string RepositoryDirectory => Path.Combine(Options.Box, "repo");

    public SelfActivityTracker Self => _wiring.Value.Self;

    public AgentStatusBoard Board => _wiring.Value.Board;

    public BoxStorage Storage => _wiring.Value.Storage;

    public AgentBackups Backups => _wiring.Value.Backups;

    public Notifier Notifier => _wiring.Value.Notifier;

    public SessionRecorder Sessions => _wiring.Value.Sessions;

    public InterruptionResponder Responder => _wiring.Value.Responder;

    /// <summary>The snapshots in the box's repository, read with the repository itself, not the agent.</summary>
    public async Task<IReadOnlyList<SnapshotRef>> SnapshotsAsync()
    {
        if (!Directory.Exists(RepositoryDirectory))
        {
            return [];
        }

        var repository = await BackupRepository.OpenAsync(
            new SpotDevBox.Backup.Storage.LocalDirectoryObjectStore(RepositoryDirectory),
            EngineOptions,
            TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
            TestKeys.Source,
            CancellationToken.None);
        return await repository.ListSnapshotsAsync(CancellationToken.None);
    }

    public string[] FilesUnder(string relative)
    {
        var directory = Path.Combine(BoxDirectory, relative);
        return Directory.Exists(directory) ? Directory.GetFiles(directory) : [];
    }

    public void Dispose()
    {
        if (_wiring.IsValueCreated)
        {
            _wiring.Value.Dispose();
        }

        _temp.Dispose();
    }

    internal sealed class InterruptionOptionsHolder
    {
        public SpotDevBox.Core.Interruption.InterruptionOptions Value { get; } = new();
    }

    private sealed class Wiring : IDisposable
    {
        public Wiring(AgentParts parts)
        {
            var agent = Microsoft.Extensions.Options.Options.Create(parts.Options);
            var engine = Microsoft.Extensions.Options.Options.Create(parts.EngineOptions);
            var opener = new RepositoryOpener(
                engine, Microsoft.Extensions.Options.Options.Create(new StorageOptions()), Microsoft.Extensions.Options.Options.Create(TestKeys.Options), parts.Time, parts.Loggers);
            Self = new SelfActivityTracker(parts.Time);
            Board = new AgentStatusBoard(agent, parts.Time);
            Storage = new BoxStorage(agent, opener, parts.Time, parts.Loggers);
            Backups = new AgentBackups(Storage, Board, agent, engine, parts.FileSystem, parts.Time, Self, parts.Loggers);
            Notifier = new Notifier(agent, parts.Loggers.CreateLogger<Notifier>());
            Sessions = new SessionRecorder(Board, Storage, parts.Time, parts.Loggers.CreateLogger<SessionRecorder>());
            Responder = new InterruptionResponder(
                Backups, Board, Storage, Notifier, Microsoft.Extensions.Options.Options.Create(parts.Interruption.Value), agent, parts.Time, parts.Loggers.CreateLogger<InterruptionResponder>());
        }

        public SelfActivityTracker Self { get; }
        public AgentStatusBoard Board { get; }
        public BoxStorage Storage { get; }
        public AgentBackups Backups { get; }
        public Notifier Notifier { get; }
        public SessionRecorder Sessions { get; }
        public InterruptionResponder Responder { get; }

        public void Dispose()
        {
            Responder.Dispose();
            Notifier.Dispose();
            Backups.Dispose();
            Storage.Dispose();
        }
    }
}

/// <summary>Keeps every log event of every category, so a test can check that a failure was logged (and with which event id).</summary>
internal sealed class RecordingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Recorder(this, categoryName);

    public ILogger<T> CreateLogger<T>() => new Logger<T>(this);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class Recorder(RecordingLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            factory._entries.Enqueue(new LogEntry(category, logLevel, eventId.Id, formatter(state, exception)));
    }
}

internal sealed record LogEntry(string Category, LogLevel Level, int EventId, string Message);

/// <summary>
/// A file system that stops the backup engine at the lstat of one path until the test opens the gate:
/// a backup that is "still running" at a moment the test chooses, without sleeps or large trees.
/// </summary>
internal sealed class GatedFileSystem(IFileSystemMetadata inner, string gatedPath) : IFileSystemMetadata
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim _open = new(false);
    private int _passes;

    /// <summary>Completes when the first backup reached the gated path (and waits there).</summary>
    public Task Reached => _reached.Task;

    /// <summary>Lets the waiting backup (and every later one) go on.</summary>
    public void Open() => _open.Set();

    public bool IsRoot => inner.IsRoot;

    public FileStatus Lstat(string path)
    {
        if (path == gatedPath && Interlocked.Increment(ref _passes) == 1)
        {
            _reached.TrySetResult();
            if (!_open.Wait(TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException("the test never opened the gate");
            }
        }

        return inner.Lstat(path);
    }

    public string ReadLink(string path) => inner.ReadLink(path);

    public void SetOwner(string path, uint uid, uint gid) => inner.SetOwner(path, uid, gid);

    public void SetTimes(string path, long mtimeNs, bool isSymlink) => inner.SetTimes(path, mtimeNs, isSymlink);

    public void SetMode(string path, uint mode) => inner.SetMode(path, mode);

    public void CreateSymlink(string target, string linkPath) => inner.CreateSymlink(target, linkPath);

    public void CreateHardLink(string existingPath, string newPath) => inner.CreateHardLink(existingPath, newPath);

    public string? UserName(uint uid) => inner.UserName(uid);

    public string? GroupName(uint gid) => inner.GroupName(gid);

    public void SetMetadata(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string pathForErrors, uint mode, long mtimeNs, (uint Uid, uint Gid)? owner) =>
        inner.SetMetadata(handle, pathForErrors, mode, mtimeNs, owner);

    public FileStatus? TryLstat(string path) => inner.TryLstat(path);
}
