using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.FileSystem;
using SpotDevBox.Core.Interruption;
using SpotDevBox.Core.Ssh;

namespace SpotDevBox.Agent;

/// <summary>
/// Start-up, before the box is reported ready (systemd's READY=1 comes after every hosted service
/// started): learn who the box is, bring back its SSH host keys, restore the latest snapshot of the
/// work, and only then allow backups. A restart of the agent on the same instance finds the marker and
/// restores nothing, so newer work is never overwritten. A failed restore stops the agent (systemd
/// retries it) rather than letting it back up an empty home as the latest snapshot.
/// </summary>
internal sealed partial class BootRestore(
    IMetadataClient metadata,
    BoxStorage storage,
    AgentBackups backups,
    AgentStatusBoard board,
    IFileSystemMetadata fileSystem,
    IOptions<AgentOptions> options,
    SpotDevBox.Core.Idle.StopPlanner planner,
    TimeProvider time,
    ILoggerFactory loggers) : IHostedService
{
    private readonly ILogger _logger = loggers.CreateLogger<BootRestore>();

    public InstanceIdentity? Identity { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        Identity = await ReadIdentityAsync(cancellationToken);
        board.SetIdentity(Identity);
        // The session (and the maximum session length) counts from the agent's first start on this instance.
        planner.SessionStart = board.Current.SessionStart;
        Directory.CreateDirectory(o.StateDirectory);
        var marker = Path.Combine(o.StateDirectory, "restored.json");
        var instance = Identity?.InstanceId ?? "unknown";
        if (ReadMarker(marker) is { } done && done.InstanceId == instance)
        {
            LogAlreadyRestored(_logger, instance, done.SnapshotId ?? "(none)");
            Ready();
            return;
        }

        if (o.HostKeys)
        {
            try
            {
                await HostKeysAsync(o, cancellationToken);
            }
            catch (RepositoryException e) when (e.Problem == RepositoryProblem.Unreadable)
            {
                StayUpUnreadable(o, e);
                return;
            }
        }

        string? restored = null;
        if (o.RestoreAtStart)
        {
            board.SetState(AgentState.Restoring);
            var notice = Path.Combine(o.RunDirectory, "restoring");
            TryWrite(notice, $"spotdevbox is restoring your work from {o.Box}; logins wait until it is done (journalctl -u spotdevbox-agent)\n");
            try
            {
                restored = await RestoreWorkAsync(cancellationToken);
            }
            catch (RollbackRefusedException e)
            {
                // Not thrown on: systemd would restart the agent every 30 s into the same refusal. The agent stays up
                // without backups (an empty home must not become the latest snapshot) and without the marker (a
                // restart refuses again), and says why in status.json, the journal and the login notice.
                board.Update(st => st with { State = AgentState.RestoreFailed, Notice = e.Message });
                LogRollbackRefused(_logger, storage.Location, e.Message);
                TryWrite(Path.Combine(o.RunDirectory, RefusedNoticeName), $"spotdevbox did NOT restore your work: {e.Message}\n");
                return;
            }
            catch (RepositoryException e) when (e.Problem == RepositoryProblem.Unreadable)
            {
                StayUpUnreadable(o, e);
                return;
            }
            catch
            {
                board.SetState(AgentState.RestoreFailed);
                throw;
            }
            finally
            {
                TryDelete(notice);
            }
        }

        await File.WriteAllBytesAsync(marker, JsonSerializer.SerializeToUtf8Bytes(new RestoreMarker(instance, restored, time.GetUtcNow()), RestoreMarkerJson.Default.RestoreMarker), cancellationToken);
        Ready();
        // The restore's buffers and index are garbage now; the agent then rests for minutes.
        AgentMemory.GiveBack(_logger, "the start-up restore");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// A repository this build cannot read (a newer format, or an unfinished migration to encryption): a restart reads
    /// it no better, so the agent stays up, restores nothing, keeps backups off (an empty home must not become a
    /// snapshot) and writes no marker, and says why in status.json, the journal and the login notice; not thrown on,
    /// which would have systemd restart it into the same failure every 30 s.
    /// </summary>
    private void StayUpUnreadable(AgentOptions o, RepositoryException e)
    {
        board.Update(st => st with { State = AgentState.RestoreFailed, Notice = e.Message });
        LogRepositoryUnreadable(_logger, storage.Location, e.Message);
        TryWrite(Path.Combine(o.RunDirectory, RefusedNoticeName), $"spotdevbox did NOT restore your work: {e.Message}\n");
    }

    private void Ready()
    {
        // A notice seen during the restore keeps the box "interrupted"; its backup, waiting for this, runs next.
        board.Update(s => s with { State = s.State == AgentState.Interrupted ? s.State : AgentState.Running });
        backups.MarkReady();
        LogReady(_logger, storage.BoxName);
    }

    private async Task<InstanceIdentity?> ReadIdentityAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            switch (await metadata.GetIdentityAsync(timeout.Token))
            {
                case MetadataReading<InstanceIdentity>.Present(var identity):
                    LogIdentity(_logger, identity.InstanceId, identity.InstanceType, identity.AvailabilityZone, identity.Lifecycle);
                    return identity;
                case MetadataReading<InstanceIdentity>.Unknown(var reason):
                    LogNoIdentity(_logger, reason);
                    return null;
                default:
                    LogNoIdentity(_logger, "the metadata service has no identity document");
                    return null;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogNoIdentity(_logger, "the metadata service did not answer within 10 s");
            return null;
        }
    }

    /// <summary>Restores every path of the latest snapshot where it was backed up from; returns the snapshot id, or null when there is none yet.</summary>
    private async Task<string?> RestoreWorkAsync(CancellationToken cancellationToken)
    {
        var repository = await storage.OpenRepositoryAsync("repo", cancellationToken);
        var snapshots = await repository.ListSnapshotsAsync(cancellationToken);
        var o = options.Value;
        if (o.MinimumSnapshot.ToFloor() is { } floor && floor.Refusal([.. snapshots.Select(s => (s.Id, s.Manifest.Time))]) is { } rollback)
        {
            if (!o.AllowRollback)
            {
                throw new RollbackRefusedException(
                    $"the repository looks rolled back: {rollback}. Nothing was restored and backups are off on this instance. " +
                    "Find out who changed the box's prefix ('spotdevbox snapshots'; 'spotdevbox recover --as-of' brings an earlier state back); " +
                    $"to restore the older snapshot anyway, stop this instance ('spotdevbox down {storage.BoxName}') and launch it with 'spotdevbox up {storage.BoxName} --allow-rollback'");
            }

            LogRollbackAllowed(_logger, storage.Location, rollback);
        }

        if (snapshots.Count == 0)
        {
            LogNothingToRestore(_logger, storage.Location);
            return null;
        }

        var latest = snapshots[^1];
        LogRestoring(_logger, latest.ShortId, latest.Manifest.Time, latest.Manifest.Partial);
        var allowed = await AllowedPathsAsync(repository, latest, cancellationToken);
        foreach (var group in allowed.GroupBy(p => Path.GetDirectoryName(p) ?? "/", StringComparer.Ordinal))
        {
            var engine = new RestoreEngine(repository, fileSystem, loggers.CreateLogger<RestoreEngine>());
            var result = await engine.RunAsync(
                new RestoreRequest
                {
                    Snapshot = latest.Id,
                    Target = group.Key,
                    Overwrite = true,
                    Includes = [.. group.Select(p => "/" + Path.GetFileName(p))],
                },
                cancellationToken);
            foreach (var warning in result.Warnings)
            {
                LogRestoreWarning(_logger, warning);
            }

            if (result.Errors.Count > 0)
            {
                throw new IOException($"the restore of snapshot {latest.ShortId} into {group.Key} failed for {Core.Text.Counted.Of(result.Errors.Count, "entry")}, first: {result.Errors[0]}");
            }

            LogRestored(_logger, latest.ShortId, group.Key, result.Files, result.BytesWritten, result.FilesUnchanged);
        }

        board.Update(s => s with { LastSnapshotId = latest.Id, LastSnapshotTime = latest.Manifest.Time, LastSnapshotPartial = latest.Manifest.Partial });
        return latest.Id;
    }

    /// <summary>
    /// The manifest's paths that this agent is configured to keep (Agent:Paths, or the user's home). The
    /// manifest is written by whoever can write the box's prefix, and this runs as root with overwrite:
    /// any other path (/etc/sudoers.d, /root/.ssh, one spelled with "..") is refused and logged as a
    /// security event, and so is a configured path whose snapshot entry is a symlink (it would point
    /// the configured place elsewhere). The rest is still restored.
    /// </summary>
    private async Task<List<string>> AllowedPathsAsync(BackupRepository repository, SnapshotRef snapshot, CancellationToken cancellationToken)
    {
        var configured = backups.ResolvePaths().Select(Canonical).ToHashSet(StringComparer.Ordinal);
        // The root tree tells a symlink from a directory; the restore reads the index again, from the cache.
        await repository.LoadIndexAsync(cancellationToken);
        var root = await repository.LoadTreeAsync(snapshot.Manifest.Tree, cancellationToken);
        var allowed = new List<string>();
        foreach (var path in snapshot.Manifest.Paths)
        {
            var printable = Backup.Repository.ListedName.Printable(path);
            if (!Path.IsPathFullyQualified(path) || path.Contains('\0', StringComparison.Ordinal) || Canonical(path) != path || !configured.Contains(path))
            {
                LogPathRefused(_logger, snapshot.ShortId, printable, "it is not one of the paths this agent is configured to restore (Agent:Paths, or the home directory of Agent:User)");
                continue;
            }

            var node = root.Nodes.FirstOrDefault(n => n.Name == Path.GetFileName(path));
            if (node is null || node.Type == Backup.Format.NodeType.Symlink)
            {
                LogPathRefused(_logger, snapshot.ShortId, printable, node is null ? "the snapshot holds no entry for it" : "its entry in the snapshot is a symlink, which would send the configured place elsewhere");
                continue;
            }

            allowed.Add(path);
        }

        return allowed;
    }

    private static string Canonical(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    /// <summary>What the host-keys restore accepts: OpenSSH's host key files for the key types it generates, nothing else.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"\Assh_host_(rsa|ecdsa|ed25519)_key(\.pub)?\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    internal static partial System.Text.RegularExpressions.Regex HostKeyName();

    /// <summary>The first boot saves the host keys; every later boot puts them back, so the fingerprint never changes.</summary>
    private async Task HostKeysAsync(AgentOptions o, CancellationToken cancellationToken)
    {
        var repository = await storage.OpenRepositoryAsync("host-keys", cancellationToken);
        var snapshots = await repository.ListSnapshotsAsync(cancellationToken);
        if (snapshots.Count > 0)
        {
            var installed = await RestoreHostKeysAsync(o, repository, snapshots[^1], cancellationToken);
            LogHostKeysRestored(_logger, installed, o.HostKeyDirectory);
            await RunReloadAsync(o, cancellationToken);
            await PublishPublicKeysAsync(o, cancellationToken);
            return;
        }

        var keys = Directory.Exists(o.HostKeyDirectory)
            ? Directory.GetFiles(o.HostKeyDirectory, "ssh_host_*").Where(f => HostKeyName().IsMatch(Path.GetFileName(f)) && fileSystem.TryLstat(f)?.Type == FileKind.RegularFile).Order(StringComparer.Ordinal).ToArray()
            : [];
        if (keys.Length == 0)
        {
            LogNoHostKeys(_logger, o.HostKeyDirectory);
            return;
        }

        var saved = await new BackupEngine(repository, fileSystem, loggers.CreateLogger<BackupEngine>())
            .RunAsync(new BackupRequest { Paths = keys, Tags = ["host-keys"], Hostname = storage.BoxName }, cancellationToken);
        LogHostKeysSaved(_logger, keys.Length, saved.SnapshotId[..8]);
        await PublishPublicKeysAsync(o, cancellationToken);
    }

    /// <summary>
    /// Restores the host-keys snapshot into a staging directory only root can enter, then installs from it
    /// into the host key directory only regular files named like OpenSSH's host keys: private keys 0600,
    /// public keys 0644, owned by root when the agent is root, each written under a new name and renamed
    /// into place (so an existing symlink there is replaced, never followed). Everything else in the
    /// snapshot (authorized_keys, a symlink, a directory) is refused and logged as a security event.
    /// </summary>
    private async Task<int> RestoreHostKeysAsync(AgentOptions o, BackupRepository repository, SnapshotRef snapshot, CancellationToken cancellationToken)
    {
        var staging = Path.Combine(o.StateDirectory, "host-keys-staging");
        if (Directory.Exists(staging) || File.Exists(staging))
        {
            // A symlink here is removed as a link: Directory.Delete does not follow links.
            if ((File.GetAttributes(staging) & FileAttributes.ReparsePoint) != 0)
            {
                File.Delete(staging);
            }
            else
            {
                Directory.Delete(staging, recursive: true);
            }
        }

        Directory.CreateDirectory(staging);
        fileSystem.SetMode(staging, 0b111_000_000); // 0700, before anything is restored into it
        try
        {
            var result = await new RestoreEngine(repository, fileSystem, loggers.CreateLogger<RestoreEngine>())
                .RunAsync(new RestoreRequest { Snapshot = snapshot.Id, Target = staging, Overwrite = true }, cancellationToken);
            if (result.Errors.Count > 0)
            {
                throw new IOException($"the SSH host keys could not be restored from snapshot {snapshot.ShortId}: {result.Errors[0]}");
            }

            Directory.CreateDirectory(o.HostKeyDirectory);
            var installed = 0;
            foreach (var entry in Directory.EnumerateFileSystemEntries(staging).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(entry);
                var printable = Backup.Repository.ListedName.Printable(name);
                var status = fileSystem.Lstat(entry);
                if (!HostKeyName().IsMatch(name))
                {
                    LogHostKeyRefused(_logger, snapshot.ShortId, printable, "its name is not ssh_host_{rsa,ecdsa,ed25519}_key or that with .pub");
                }
                else if (status.Type != FileKind.RegularFile)
                {
                    LogHostKeyRefused(_logger, snapshot.ShortId, printable, $"it is a {status.Type}, not a regular file");
                }
                else
                {
                    InstallHostKey(entry, Path.Combine(o.HostKeyDirectory, name), name.EndsWith(".pub", StringComparison.Ordinal));
                    installed++;
                }
            }

            return installed;
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private void InstallHostKey(string staged, string destination, bool isPublic)
    {
        uint mode = isPublic ? 0b110_100_100u : 0b110_000_000u; // 0644, 0600
        var temp = Path.Combine(Path.GetDirectoryName(destination)!, $".{Path.GetFileName(destination)}.{Guid.NewGuid():N}.spotdevbox");
        try
        {
            using (var source = new FileStream(staged, FileMode.Open, FileAccess.Read))
            using (var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                // Mode and owner before the first byte of the key is written.
                fileSystem.SetMode(temp, mode);
                if (fileSystem.IsRoot)
                {
                    fileSystem.SetOwner(temp, 0, 0);
                }

                source.CopyTo(target);
                target.Flush(flushToDisk: true);
            }

            File.Move(temp, destination, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// host-keys.pub in the box's prefix, from the <c>ssh_host_*_key.pub</c> files now in place: what
    /// <c>spotdevbox ssh-config</c> pins, so the first connection to a new instance is already verified. Only
    /// lines that parse as one public key are written, so no private key can get there.
    /// </summary>
    private async Task PublishPublicKeysAsync(AgentOptions o, CancellationToken cancellationToken)
    {
        var keys = new List<HostPublicKey>();
        foreach (var file in Directory.GetFiles(o.HostKeyDirectory, "ssh_host_*_key.pub").Order(StringComparer.Ordinal))
        {
            string text;
            try
            {
                text = await File.ReadAllTextAsync(file, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogPublicKeyUnusable(_logger, file, e.Message);
                continue;
            }

            if (HostPublicKey.TryParse(text.Split('\n')[0]) is { } key)
            {
                keys.Add(key);
            }
            else
            {
                LogPublicKeyUnusable(_logger, file, "its first line is not '<keytype> <base64>'");
            }
        }

        if (keys.Count == 0)
        {
            LogNoPublicKeys(_logger, o.HostKeyDirectory);
            return;
        }

        try
        {
            await storage.WriteHostPublicKeysAsync(keys, cancellationToken);
            LogPublicKeysPublished(_logger, keys.Count, storage.Location + "/" + BoxStorage.HostPublicKeysName);
        }
        catch (StorageException e)
        {
            // The box is usable without it: ssh-config then accepts the first key it is offered instead of pinning it.
            LogPublishFailed(_logger, storage.Location + "/" + BoxStorage.HostPublicKeysName, e.Message);
        }
    }

    private async Task RunReloadAsync(AgentOptions o, CancellationToken cancellationToken)
    {
        if (o.HostKeyReloadCommand.Count == 0)
        {
            return;
        }

        try
        {
            using var process = System.Diagnostics.Process.Start(o.HostKeyReloadCommand[0], o.HostKeyReloadCommand.Skip(1));
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                LogReloadFailed(_logger, string.Join(' ', o.HostKeyReloadCommand), $"exit code {process.ExitCode}");
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            LogReloadFailed(_logger, string.Join(' ', o.HostKeyReloadCommand), e.Message);
        }
    }

    private static RestoreMarker? ReadMarker(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), RestoreMarkerJson.Default.RestoreMarker);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void TryWrite(string path, string text)
    {
        try
        {
            RunDirectory.Ensure(Path.GetDirectoryName(path)!);
            AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(text), AtomicFile.WorldReadable);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The notice for logins is a courtesy; the restore goes on without it.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // as above
        }
    }

    internal sealed record RestoreMarker(string InstanceId, string? SnapshotId, DateTimeOffset Time);

    /// <summary>The login notice of a refused rollback, in Agent:RunDirectory (<c>/etc/profile.d/spotdevbox.sh</c> prints it).</summary>
    internal const string RefusedNoticeName = "restore-refused";

    /// <summary>The repository's latest snapshot is below Agent:MinimumSnapshot and Agent:AllowRollback is off.</summary>
    private sealed class RollbackRefusedException(string message) : Exception(message);

    [LoggerMessage(EventId = 3119, Level = LogLevel.Error, Message = "Security: boot restore refused for {Repository}: {Reason}")]
    private static partial void LogRollbackRefused(ILogger logger, string repository, string reason);

    [LoggerMessage(EventId = 3121, Level = LogLevel.Error, Message = "Boot restore stopped, the agent stays up without backups: {Repository} cannot be read by this build: {Reason}")]
    private static partial void LogRepositoryUnreadable(ILogger logger, string repository, string reason);

    [LoggerMessage(EventId = 3120, Level = LogLevel.Warning, Message = "Security: restoring {Repository} below its rollback floor because Agent:AllowRollback is set: {Reason}")]
    private static partial void LogRollbackAllowed(ILogger logger, string repository, string reason);

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Box {Box} is ready: backups may run")]
    private static partial void LogReady(ILogger logger, string box);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Instance {InstanceId} ({InstanceType} in {AvailabilityZone}, {Lifecycle})")]
    private static partial void LogIdentity(ILogger logger, string instanceId, string instanceType, string availabilityZone, string lifecycle);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Instance identity unknown (not on EC2, or the metadata service is unreachable): {Reason}")]
    private static partial void LogNoIdentity(ILogger logger, string reason);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Instance {InstanceId} was already restored (snapshot {SnapshotId}): an agent restart does not restore over newer work")]
    private static partial void LogAlreadyRestored(ILogger logger, string instanceId, string snapshotId);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Information, Message = "No snapshot in {Repository} yet: nothing to restore (a first boot)")]
    private static partial void LogNothingToRestore(ILogger logger, string repository);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Information, Message = "Restoring snapshot {SnapshotId} of {Time} (partial: {Partial})")]
    private static partial void LogRestoring(ILogger logger, string snapshotId, DateTimeOffset time, bool partial);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Information, Message = "Restored snapshot {SnapshotId} into {Target}: {Files} files, {Bytes} bytes written, {Unchanged} already in place")]
    private static partial void LogRestored(ILogger logger, string snapshotId, string target, long files, long bytes, long unchanged);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Warning, Message = "Restore: {Warning}")]
    private static partial void LogRestoreWarning(ILogger logger, string warning);

    [LoggerMessage(EventId = 3108, Level = LogLevel.Information, Message = "Restored {Count} SSH host key files into {Directory}")]
    private static partial void LogHostKeysRestored(ILogger logger, long count, string directory);

    [LoggerMessage(EventId = 3109, Level = LogLevel.Information, Message = "Saved {Count} SSH host key files (snapshot {SnapshotId}); later boots restore them")]
    private static partial void LogHostKeysSaved(ILogger logger, int count, string snapshotId);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Warning, Message = "No SSH host keys in {Directory}: nothing to save")]
    private static partial void LogNoHostKeys(ILogger logger, string directory);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "'{Command}' after restoring the host keys failed: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string command, string reason);

    [LoggerMessage(EventId = 3112, Level = LogLevel.Information, Message = "Published {Count} SSH host public keys to {Location} for ssh-config")]
    private static partial void LogPublicKeysPublished(ILogger logger, int count, string location);

    [LoggerMessage(EventId = 3113, Level = LogLevel.Warning, Message = "SSH host public key {File} left out of host-keys.pub: {Reason}")]
    private static partial void LogPublicKeyUnusable(ILogger logger, string file, string reason);

    [LoggerMessage(EventId = 3114, Level = LogLevel.Warning, Message = "No SSH host public key (ssh_host_*_key.pub) in {Directory}: host-keys.pub not written, ssh-config cannot pin this box's keys")]
    private static partial void LogNoPublicKeys(ILogger logger, string directory);

    [LoggerMessage(EventId = 3115, Level = LogLevel.Warning, Message = "Could not write {Location} ({Reason}): ssh-config will accept this box's first key instead of pinning it")]
    private static partial void LogPublishFailed(ILogger logger, string location, string reason);

    [LoggerMessage(EventId = 3116, Level = LogLevel.Error, Message = "Security: boot restore of snapshot {SnapshotId} refused path {Path}: {Reason}; the other paths are restored")]
    private static partial void LogPathRefused(ILogger logger, string snapshotId, string path, string reason);

    [LoggerMessage(EventId = 3117, Level = LogLevel.Error, Message = "Security: host-keys restore of snapshot {SnapshotId} refused entry {Name}: {Reason}; only SSH host key files are installed")]
    private static partial void LogHostKeyRefused(ILogger logger, string snapshotId, string name, string reason);
}

/// <summary>The restore marker's JSON (property names as written by earlier versions: InstanceId, SnapshotId, Time).</summary>
[JsonSerializable(typeof(BootRestore.RestoreMarker))]
internal sealed partial class RestoreMarkerJson : JsonSerializerContext;
