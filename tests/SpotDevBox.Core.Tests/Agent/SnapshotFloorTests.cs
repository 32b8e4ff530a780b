using SpotDevBox.Core.Agent;

namespace SpotDevBox.Core.Tests.Agent;

public sealed class SnapshotFloorTests
{
    private static readonly DateTimeOffset Noon = new(2026, 3, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly string A = new('a', 64);
    private static readonly string B = new('b', 64);
    private static readonly string C = new('c', 64);

    [Fact]
    public void Raise_NewerOlderEqualAndMissingReports_OnlyANewerOneRaisesIt()
    {
        var floor = new SnapshotFloor(A, Noon);

        Assert.Equal(floor, SnapshotFloor.Raise(null, floor));
        Assert.Equal(new SnapshotFloor(B, Noon.AddSeconds(1)), SnapshotFloor.Raise(floor, new SnapshotFloor(B, Noon.AddSeconds(1))));
        Assert.Equal(floor, SnapshotFloor.Raise(floor, new SnapshotFloor(B, Noon.AddHours(-1))));
        Assert.Equal(floor, SnapshotFloor.Raise(floor, new SnapshotFloor(B, Noon)));
        Assert.Equal(floor, SnapshotFloor.Raise(floor, null));
        Assert.Null(SnapshotFloor.Raise(null, null));
    }

    [Fact]
    public void Refusal_LatestIsTheFloorOrNewer_NotARollback()
    {
        var floor = new SnapshotFloor(B, Noon);

        Assert.Null(floor.Refusal([(A, Noon.AddHours(-1)), (B, Noon)]));
        Assert.Null(floor.Refusal([(B, Noon), (C, Noon.AddHours(1))]));
        // Retention forgot the floor's snapshot once a newer one existed.
        Assert.Null(floor.Refusal([(C, Noon.AddHours(1))]));
    }

    [Fact]
    public void Refusal_NewestSnapshotsDeleted_NamesTheLatestAndTheFloor()
    {
        var floor = new SnapshotFloor(B, Noon);

        var why = floor.Refusal([(A, Noon.AddHours(-1))]);

        Assert.Equal("its latest snapshot, aaaaaaaa of 2026-03-02 11:00:00 UTC, is older than snapshot bbbbbbbb of 2026-03-02 12:00:00 UTC, which this box reported", why);
    }

    [Fact]
    public void Refusal_EmptyRepository_Refused()
    {
        Assert.Equal(
            "the repository holds no snapshot, but this box reported snapshot bbbbbbbb of 2026-03-02 12:00:00 UTC",
            new SnapshotFloor(B, Noon).Refusal([]));
    }

    [Fact]
    public void Refusal_FloorMissingAndAnotherSnapshotOfTheSameTime_Refused()
    {
        var why = new SnapshotFloor(B, Noon).Refusal([(A, Noon.AddHours(-1)), (C, Noon)]);

        Assert.Equal("snapshot bbbbbbbb of 2026-03-02 12:00:00 UTC, which this box reported, is missing and snapshot cccccccc of the same time stands in its place", why);
    }

    [Theory]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true)]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)]
    [InlineData("aaaaaaaa", false)]
    [InlineData("$(reboot)aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    [InlineData(null, false)]
    public void IsSnapshotId_Shapes_OnlyLowerHex64(string? id, bool expected) => Assert.Equal(expected, SnapshotFloor.IsSnapshotId(id));
}
