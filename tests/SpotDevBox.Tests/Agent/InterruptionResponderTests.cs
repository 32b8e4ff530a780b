using System.Text.Json;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Tests.Agent;

/// <summary>
/// The responder's answers to the softer signals and to hibernation, with the real backups against a
/// local-directory box and the webhook on a loopback listener. (The stop/terminate notice is covered end
/// to end in AgentEndToEndTests.)
/// </summary>
public sealed class InterruptionResponderTests : IDisposable
{
    private readonly AgentParts _box = new();
    private readonly WebhookRecorder _hook = new();

    public InterruptionResponderTests()
    {
        _box.Options.WebhookUrl = _hook.Url;
        File.WriteAllText(Path.Combine(_box.Home, "notes.txt"), "remember the milk\n");
        _box.Backups.MarkReady();
        _box.Board.SetState(AgentState.Running);
    }

    [Fact]
    public async Task OnInstanceActionAsync_Hibernate_NoBackupButRecordWritten()
    {
        var at = new DateTimeOffset(2025, 6, 2, 9, 0, 30, TimeSpan.Zero);

        await _box.Responder.OnInstanceActionAsync(new InstanceAction(InstanceActionKind.Hibernate, at), CancellationToken.None);
        await DrainAsync();

        Assert.False(Directory.Exists(_box.RepositoryDirectory));
        Assert.DoesNotContain(_box.Loggers.Entries, e => e.EventId == 3000);
        var file = Assert.Single(_box.FilesUnder("interruptions"));
        Assert.Equal("20250602T090030Z-unknown.json", Path.GetFileName(file));
        var record = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(file), BoxJson.Default.InterruptionRecord)!;
        Assert.Equal("alice", record.Box);
        Assert.Equal("hibernate", record.Action);
        Assert.Equal(at, record.NoticeTime);
        Assert.Equal(at, record.Deadline);
        Assert.Equal(new DateTimeOffset(2025, 6, 2, 9, 0, 0, TimeSpan.Zero), record.SeenAt);
        Assert.Null(record.SnapshotId);
        Assert.Equal(SessionEnd.Interruption, _box.Board.EndReason);
        Assert.Equal(AgentState.Interrupted, _box.Board.Current.State);
        Assert.Equal("hibernate at 2025-06-02 09:00:30Z", _box.Board.Current.Notice);
    }

    [Fact]
    public async Task OnInstanceActionAsync_TerminateNoticeSaved_StatusCarriesNoticeToDurableSeconds()
    {
        Assert.Null(_box.Board.Current.NoticeToDurableSeconds);

        await _box.Responder.OnInstanceActionAsync(new InstanceAction(InstanceActionKind.Terminate, _box.Time.GetUtcNow().AddMinutes(2)), CancellationToken.None);
        await DrainAsync();

        Assert.Single(await _box.SnapshotsAsync());
        // Seen and durable at the same fake instant.
        Assert.Equal(0d, _box.Board.Current.NoticeToDurableSeconds);
    }

    [Fact]
    public async Task OnRebalanceRecommendationAsync_StartsRebalanceBackupAndNotifies()
    {
        await _box.Responder.OnRebalanceRecommendationAsync(new RebalanceRecommendation(_box.Time.GetUtcNow()), CancellationToken.None);
        await DrainAsync();

        var snapshot = Assert.Single(await _box.SnapshotsAsync());
        Assert.Equal(["agent", "rebalance"], snapshot.Manifest.Tags);
        var (_, body) = Assert.Single(_hook.Received);
        Assert.Equal("Rebalance", body.GetProperty("kind").GetString());
        Assert.Equal(
            "[spotdevbox alice] AWS says this spot instance is at elevated risk of interruption. Your work is being backed up now; nothing stops. Save often.",
            body.GetProperty("text").GetString());
        // A soft signal: the session goes on.
        Assert.Null(_box.Board.EndReason);
        Assert.Equal(AgentState.Running, _box.Board.Current.State);
        Assert.Empty(_box.FilesUnder("interruptions"));
    }

    [Fact]
    public async Task OnMaintenanceEventAsync_WithWindow_NotifiesTheWindowAndBacksNothingUp()
    {
        var maintenance = new MaintenanceEvent(
            "instance-event-0123456789abcdef0",
            "instance-stop",
            "active",
            new DateTimeOffset(2025, 6, 10, 10, 0, 0, TimeSpan.Zero),
            new DateTimeOffset(2025, 6, 10, 12, 0, 0, TimeSpan.Zero),
            "The instance is running on degraded hardware");

        await _box.Responder.OnMaintenanceEventAsync(maintenance, CancellationToken.None);
        await DrainAsync();

        var (_, body) = Assert.Single(_hook.Received);
        Assert.Equal("Maintenance", body.GetProperty("kind").GetString());
        Assert.Equal(
            "[spotdevbox alice] AWS scheduled 'instance-stop' for this instance, 2025-06-10 10:00:00Z to 2025-06-10 12:00:00Z " +
            "(The instance is running on degraded hardware). The box will stop then; work is backed up every few minutes.",
            body.GetProperty("text").GetString());
        Assert.False(Directory.Exists(_box.RepositoryDirectory));
        Assert.Null(_box.Board.EndReason);
    }

    [Fact]
    public async Task OnMaintenanceEventAsync_NoEnd_NotifiesFromTheStart()
    {
        var maintenance = new MaintenanceEvent(
            "instance-event-1", "instance-retirement", "active", new DateTimeOffset(2025, 6, 10, 10, 0, 0, TimeSpan.Zero), null, "retirement");

        await _box.Responder.OnMaintenanceEventAsync(maintenance, CancellationToken.None);
        await DrainAsync();

        var (_, body) = Assert.Single(_hook.Received);
        Assert.Contains("AWS scheduled 'instance-retirement' for this instance, from 2025-06-10 10:00:00Z (retirement).", body.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _box.Dispose();
        _hook.Dispose();
    }

    private async Task DrainAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _box.Responder.DrainAsync(limit.Token);
        Assert.False(limit.IsCancellationRequested, "the responder's work did not finish within 20 s");
    }
}
