using Microsoft.Extensions.Time.Testing;
using Moq;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Launch;

namespace SpotDevBox.Core.Tests.Launch;

/// <summary>The launch claim (launch.json) on an in-memory store with S3's conditional-write rules and a list of instances.</summary>
public sealed class LaunchClaimsTests
{
    private const string Box = "alice";
    private const string Storage = "s3://my-bucket/team/alice/alice";
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 7, 30, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);
    private readonly InMemoryLaunchClaimStore _store = new();
    private readonly List<BoxInstance> _instances = [];
    private readonly BoxOptions _options = new() { Owner = "alice", Region = "eu-central-1", Storage = Storage };

    private LaunchClaims Claims()
    {
        var gateway = new Mock<IComputeGateway>(MockBehavior.Strict);
        gateway.Setup(g => g.FindBoxInstancesAsync(Box, It.IsAny<CancellationToken>()))
            .Returns(() => Task.FromResult<IReadOnlyList<BoxInstance>>([.. _instances]));
        var factory = new Mock<IComputeGatewayFactory>(MockBehavior.Strict);
        factory.Setup(f => f.ForRegion("eu-central-1")).Returns(gateway.Object);
        return new LaunchClaims(_store, factory.Object, _time);
    }

    private static LaunchClaim Claim(string session, string by, DateTimeOffset at, string? instanceId = null) =>
        new() { Box = Box, SessionId = session, ClaimedBy = by, ClaimedAt = at, ExpiresAt = at + LaunchClaims.Lifetime, InstanceId = instanceId };

    private static BoxInstance Instance(string id, string session, InstanceState state) =>
        new(id, Box, "alice", session, "m6i.large", "eu-central-1a", InstanceLifecycle.Spot, state, null, Now.AddMinutes(-1), "10.0.0.9", null, null);

    [Fact]
    public async Task ClaimAsync_NoClaim_WritesOneIfAbsentAndWins()
    {
        var outcome = await Claims().ClaimAsync(Box, _options, "s-mine", "bob", CancellationToken.None);

        var won = Assert.IsType<ClaimOutcome.Won>(outcome);
        Assert.Equal(("s-mine", "bob", Now + LaunchClaims.Lifetime), (won.Claim.SessionId, won.Claim.ClaimedBy, won.Claim.ExpiresAt));
        var write = Assert.Single(_store.Writes);
        Assert.Null(write.ExpectedETag);
        Assert.Equal("s-mine", _store[Storage]!.SessionId);
    }

    [Fact]
    public async Task ClaimAsync_LostTheRace_FollowsTheWinnersSession()
    {
        // Between this launcher's read (nothing there) and its If-None-Match write, carol's claim lands.
        _store.BeforeNextWrite = () => _store.Put(Storage, Claim("s-carol", "carol", Now));

        var outcome = await Claims().ClaimAsync(Box, _options, "s-mine", "bob", CancellationToken.None);

        var following = Assert.IsType<ClaimOutcome.Following>(outcome);
        Assert.Equal(("s-carol", "carol"), (following.Claim.SessionId, following.Claim.ClaimedBy));
        Assert.False(Assert.Single(_store.Writes).Written);
        Assert.Equal("s-carol", _store[Storage]!.SessionId);
    }

    [Fact]
    public async Task ClaimAsync_ClaimInForce_FollowsWithoutWriting()
    {
        _store.Put(Storage, Claim("s-carol", "carol", Now.AddMinutes(-2)));

        var outcome = await Claims().ClaimAsync(Box, _options, "s-mine", "bob", CancellationToken.None);

        Assert.Equal("s-carol", Assert.IsType<ClaimOutcome.Following>(outcome).Claim.SessionId);
        Assert.Empty(_store.Writes);
    }

    [Fact]
    public async Task ClaimAsync_ExpiredClaim_TakenOverWithIfMatchOnItsETag()
    {
        // carol's launcher crashed before RunInstances: no instance of her session, and her claim has expired.
        _store.Put(Storage, Claim("s-carol", "carol", Now - LaunchClaims.Lifetime - TimeSpan.FromSeconds(1)));
        var etag = (await _store.ReadAsync(Storage, CancellationToken.None))!.ETag;

        var outcome = await Claims().ClaimAsync(Box, _options, "s-mine", "bob", CancellationToken.None);

        Assert.Equal("s-mine", Assert.IsType<ClaimOutcome.Won>(outcome).Claim.SessionId);
        var write = Assert.Single(_store.Writes);
        Assert.Equal((etag, true), (write.ExpectedETag, write.Written));
    }

    [Fact]
    public async Task ClaimAsync_ExpiredClaimTakenOverByAnotherFirst_FollowsThem()
    {
        _store.Put(Storage, Claim("s-carol", "carol", Now - LaunchClaims.Lifetime - TimeSpan.FromSeconds(1)));
        _store.BeforeNextWrite = () => _store.Put(Storage, Claim("s-dave", "dave", Now));

        var outcome = await Claims().ClaimAsync(Box, _options, "s-mine", "bob", CancellationToken.None);

        Assert.Equal("s-dave", Assert.IsType<ClaimOutcome.Following>(outcome).Claim.SessionId);
    }

    [Fact]
    public async Task ClaimAsync_ClaimWhoseInstanceEnded_TakenOverBeforeItExpires()
    {
        // A `down` within the claim's lifetime: its instance is terminated, so an `up` now launches again.
        _store.Put(Storage, Claim("s-carol", "carol", Now.AddMinutes(-3), "i-0carol"));
        _instances.Add(Instance("i-0carol", "s-carol", InstanceState.Terminated));

        var outcome = await Claims().ClaimAsync(Box, _options, "s-mine", "bob", CancellationToken.None);

        Assert.Equal("s-mine", Assert.IsType<ClaimOutcome.Won>(outcome).Claim.SessionId);
    }

    [Fact]
    public async Task ClaimAsync_FailedClaim_TakenOver()
    {
        _store.Put(Storage, Claim("s-carol", "carol", Now.AddMinutes(-1)) with { Failed = "no capacity" });

        Assert.IsType<ClaimOutcome.Won>(await Claims().ClaimAsync(Box, _options, "s-mine", "bob", CancellationToken.None));
    }

    [Fact]
    public async Task ClaimAsync_SameSessionAgain_IsItsOwnWithoutWriting()
    {
        // The controller retrying an indeterminate launch with its pending session.
        _store.Put(Storage, Claim("s-ctl", "controller", Now.AddMinutes(-2)));

        var outcome = await Claims().ClaimAsync(Box, _options, "s-ctl", "controller", CancellationToken.None);

        Assert.Equal("s-ctl", Assert.IsType<ClaimOutcome.Won>(outcome).Claim.SessionId);
        Assert.Empty(_store.Writes);
    }

    [Fact]
    public async Task FollowAsync_TheWinnersInstanceAppears_ReturnsIt()
    {
        var carol = Claim("s-carol", "carol", Now);
        _store.Put(Storage, carol);
        var claims = Claims();

        var follow = claims.FollowAsync(Box, _options, carol, TimeSpan.FromMinutes(5), CancellationToken.None);
        _instances.Add(Instance("i-0carol", "s-carol", InstanceState.Pending));
        _time.Advance(LaunchClaims.FollowPoll);

        var found = Assert.IsType<FollowOutcome.Found>(await follow);
        Assert.Equal("i-0carol", found.Instance.InstanceId);
    }

    [Fact]
    public async Task FollowAsync_WinnersLaunchFailed_ReportsItsReason()
    {
        var carol = Claim("s-carol", "carol", Now);
        _store.Put(Storage, carol);
        var claims = Claims();
        await claims.ReleaseAsync(_options, carol, "box alice not launched: no capacity", CancellationToken.None);

        var failed = Assert.IsType<FollowOutcome.LaunchFailed>(await claims.FollowAsync(Box, _options, carol, TimeSpan.FromMinutes(5), CancellationToken.None));

        Assert.Equal("box alice not launched: no capacity", failed.Claim.Failed);
    }

    [Fact]
    public async Task RecordInstanceAsync_ClaimTakenOverMeanwhile_LeavesTheNewClaim()
    {
        var mine = Claim("s-mine", "bob", Now);
        _store.Put(Storage, Claim("s-dave", "dave", Now));

        await Claims().RecordInstanceAsync(_options, mine, "i-0mine", CancellationToken.None);

        Assert.Equal(("s-dave", (string?)null), (_store[Storage]!.SessionId, _store[Storage]!.InstanceId));
    }
}
