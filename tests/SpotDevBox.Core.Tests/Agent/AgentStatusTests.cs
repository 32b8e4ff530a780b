using System.Text;
using System.Text.Json;
using SpotDevBox.Core.Agent;

namespace SpotDevBox.Core.Tests.Agent;

public sealed class AgentStatusTests
{
    [Fact]
    public void Parse_DocumentOfAnOlderAgentWithoutTheFigures_ParsesWithThemNull()
    {
        const string older = """
            {"box": "alice", "state": "Running", "updated_at": "2026-11-27T08:30:00+00:00", "agent_version": "0.9.0",
             "last_snapshot_id": "abc", "last_snapshot_time": "2026-11-27T08:20:00+00:00"}
            """;

        var status = BoxJson.Parse(Encoding.UTF8.GetBytes(older), BoxJson.Default.AgentStatus, "status.json");

        Assert.Equal(("alice", "abc"), (status.Box, status.LastSnapshotId));
        Assert.Equal(((double?)null, (long?)null, (double?)null), (status.LastBackupSeconds, status.LastBackupBytesUploaded, status.NoticeToDurableSeconds));
    }

    [Fact]
    public void Serialize_TheFigures_SnakeCaseNamesAndRoundTrip()
    {
        var status = new AgentStatus
        {
            Box = "alice",
            State = AgentState.Running,
            UpdatedAt = new DateTimeOffset(2026, 11, 27, 8, 30, 0, TimeSpan.Zero),
            AgentVersion = "1.0.0",
            LastBackupSeconds = 12.5,
            LastBackupBytesUploaded = 3_000_000,
            NoticeToDurableSeconds = 41,
        };

        var json = JsonSerializer.Serialize(status, BoxJson.Default.AgentStatus);
        var back = BoxJson.Parse(Encoding.UTF8.GetBytes(json), BoxJson.Default.AgentStatus, "status.json");

        Assert.Contains("\"last_backup_seconds\": 12.5", json, StringComparison.Ordinal);
        Assert.Contains("\"last_backup_bytes_uploaded\": 3000000", json, StringComparison.Ordinal);
        Assert.Contains("\"notice_to_durable_seconds\": 41", json, StringComparison.Ordinal);
        Assert.Equal((12.5, 3_000_000L, 41d), (back.LastBackupSeconds!.Value, back.LastBackupBytesUploaded!.Value, back.NoticeToDurableSeconds!.Value));
    }
}
