using System.Text.Json.Serialization;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Commands;

// What the repository verbs print with --json. Named records (not anonymous objects) so the JSON is
// source-generated and works in the native AOT build; snake_case names, in this order, are the output's format.

/// <param name="Versioning">The bucket's versioning (Enabled, Suspended, Off; null for a local repository or when it could not be read).</param>
internal sealed record InitOutput(string Repository, string Id, DateTimeOffset Created, string? Versioning);

/// <summary><c>recover --json</c>: what was (or, with --dry-run, would be) done to each key that changed, and the counts.</summary>
internal sealed record RecoverOutput(string Repository, DateTimeOffset AsOf, bool DryRun, int Restored, int Removed, int Unchanged, IReadOnlyList<RecoverStepOutput> Changes);

internal sealed record RecoverStepOutput(string Key, string Action, string? VersionId, DateTimeOffset? VersionTime);

internal sealed record BackupOutput(string SnapshotId, DateTimeOffset Time, IReadOnlyList<string> Paths, SnapshotSummary Summary, IReadOnlyList<string> Warnings);

internal sealed record SnapshotOutput(
    string Id,
    string ShortId,
    DateTimeOffset Time,
    string Hostname,
    IReadOnlyList<string> Paths,
    IReadOnlyList<string> Tags,
    string Tree,
    string? Parent,
    bool Partial,
    SnapshotSummary? Summary);

internal sealed record RestoreOutput(
    string SnapshotId,
    string Target,
    long Files,
    long Dirs,
    long Symlinks,
    long BytesWritten,
    long FilesUnchanged,
    long Deleted,
    double DurationSeconds,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> Errors,
    IReadOnlyList<string> LeftBehind);

internal sealed record CheckOutput(bool Ok, int Snapshots, int Packs, int Blobs, long BytesVerified, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings);

internal sealed record ForgetOutput(bool DryRun, IReadOnlyList<ForgetDecisionOutput> Snapshots, PruneResult? Prune);

internal sealed record ForgetDecisionOutput(string Id, DateTimeOffset Time, bool Keep, string Reason);

/// <summary><c>up --json</c>: the instance the box runs on; Ready is false with --no-wait (EC2 accepted the launch).</summary>
internal sealed record UpOutput(string Box, string InstanceId, string State, bool Ready, string? InstanceType, string? AvailabilityZone, string? Address, string? User, string? SessionId);

/// <summary><c>down --json</c>: the stop asked of the box, and the down override when --until was given.</summary>
internal sealed record DownOutput(string Box, string Storage, DateTimeOffset StopRequestedAt, string RequestedBy, DateTimeOffset? DownUntil);

/// <summary><c>key list --json</c>: every key file; <c>Opened</c> is the key that opened the master key, when one was tried.</summary>
internal sealed record KeyListOutput(string Repository, string? Opened, IReadOnlyList<KeyOutput> Keys);

/// <summary>A key file; <c>Problem</c> says why it cannot be used (then kind, label and the rest may be null).</summary>
internal sealed record KeyOutput(
    string Id,
    string ShortId,
    string? Kind,
    string? Label,
    DateTimeOffset? Created,
    string? KeyArn,
    IReadOnlyDictionary<string, string>? Context,
    string? Problem,
    bool Opened);

/// <summary><c>key add --json</c> and <c>key passwd --json</c>: the new key.</summary>
internal sealed record KeyAddOutput(string Id, string ShortId, string Kind, string Label);

/// <summary><c>key remove --json</c>: the key removed, and the reminder that its master key is not revoked.</summary>
internal sealed record KeyRemoveOutput(string Removed, string Note);

/// <summary><c>migrate --json</c>: the new repository id, what was written and deleted, and each snapshot's new id.</summary>
internal sealed record MigrateOutput(
    string Repository, string Id, bool Resumed, int Snapshots, int Blobs, long Bytes, int Packs, int ObjectsDeleted, int CleanedUp, IReadOnlyList<MigratedSnapshotOutput> SnapshotIds);

internal sealed record MigratedSnapshotOutput(string OldId, string NewId);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(InitOutput))]
[JsonSerializable(typeof(RecoverOutput))]
[JsonSerializable(typeof(MovedToMarker))]
[JsonSerializable(typeof(BackupOutput))]
[JsonSerializable(typeof(List<SnapshotOutput>))]
[JsonSerializable(typeof(RestoreOutput))]
[JsonSerializable(typeof(CheckOutput))]
[JsonSerializable(typeof(MigrateOutput))]
[JsonSerializable(typeof(ForgetOutput))]
[JsonSerializable(typeof(PruneResult))]
[JsonSerializable(typeof(UpOutput))]
[JsonSerializable(typeof(DownOutput))]
[JsonSerializable(typeof(KeyListOutput))]
[JsonSerializable(typeof(KeyAddOutput))]
[JsonSerializable(typeof(KeyRemoveOutput))]
internal sealed partial class CommandJson : JsonSerializerContext;
