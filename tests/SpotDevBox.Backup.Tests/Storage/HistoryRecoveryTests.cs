using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Backup.Tests.Storage;

/// <summary>The plan of recover --as-of, from version listings written by hand (S3 lists each key's versions newest first).</summary>
public sealed class HistoryRecoveryTests
{
    private static readonly DateTimeOffset AsOf = new(2026, 12, 1, 9, 30, 0, TimeSpan.Zero);

    private static ObjectVersion V(string key, string id, int minute, bool latest = false, string etag = "", bool marker = false) =>
        new(key, id, new DateTimeOffset(2026, 12, 1, 9, minute, 0, TimeSpan.Zero), marker, latest, etag.Length > 0 ? etag : "etag-" + id, marker ? 0 : 10);

    private static (string Key, RecoveryAction Action, string? Version)[] Plan(params ObjectVersion[] versions) =>
        [.. HistoryRecovery.Plan(versions, AsOf).Select(s => (s.Key, s.Action, s.Target?.VersionId))];

    [Fact]
    public void Plan_OverwrittenAfterTheTime_RestoresTheVersionCurrentThen()
    {
        Assert.Equal([("config", RecoveryAction.Restore, "v1")], Plan(V("config", "v2", 40, latest: true), V("config", "v1", 10)));
    }

    [Fact]
    public void Plan_DeletedAfterTheTime_RestoresTheVersionUnderTheDeleteMarker()
    {
        Assert.Equal([("snapshots/a", RecoveryAction.Restore, "v1")], Plan(V("snapshots/a", "m1", 45, latest: true, marker: true), V("snapshots/a", "v1", 10)));
    }

    [Fact]
    public void Plan_CreatedAfterTheTime_Removed()
    {
        Assert.Equal([("snapshots/forged", RecoveryAction.Remove, null)], Plan(V("snapshots/forged", "v1", 31, latest: true)));
    }

    [Fact]
    public void Plan_DeletedBeforeTheTimeAndRecreatedAfter_Removed()
    {
        Assert.Equal([("locks/x", RecoveryAction.Remove, null)],
            Plan(V("locks/x", "v2", 50, latest: true), V("locks/x", "m1", 20, marker: true), V("locks/x", "v1", 10)));
    }

    [Fact]
    public void Plan_UntouchedSinceTheTime_Unchanged()
    {
        Assert.Equal([("index/a", RecoveryAction.Unchanged, "v1")], Plan(V("index/a", "v1", 10, latest: true)));
    }

    [Fact]
    public void Plan_AlreadyRestoredByAnEarlierRun_UnchangedSinceTheCopyHasTheSameETag()
    {
        // The first run copied v1 over v2: a new version v3 with v1's content and ETag.
        Assert.Equal([("config", RecoveryAction.Unchanged, "v1")],
            Plan(V("config", "v3", 50, latest: true, etag: "same"), V("config", "v2", 40), V("config", "v1", 10, etag: "same")));
    }

    [Fact]
    public void Plan_CreatedAndDeletedInOneSecondListedMarkerLast_StaysDeleted()
    {
        // A backup's lock, written and removed within one second; a server that lists delete markers after every version.
        Assert.Equal([("locks/b", RecoveryAction.Unchanged, null)],
            Plan(V("locks/b", "v1", 20), V("locks/b", "m1", 20, latest: true, marker: true)));
    }

    [Fact]
    public void Plan_VersionAtExactlyTheTime_IsTheOneCurrentThen()
    {
        Assert.Equal([("config", RecoveryAction.Restore, "v1")], Plan(V("config", "v2", 31, latest: true), V("config", "v1", 30)));
    }
}
