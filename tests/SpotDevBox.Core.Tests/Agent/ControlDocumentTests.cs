using System.Text.Json;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Tests.Agent;

public sealed class ControlDocumentTests
{
    private static readonly DateTimeOffset SessionStart = new(2026, 11, 27, 8, 30, 0, TimeSpan.Zero);

    [Theory]
    // No instance named: only a stop requested since the agent started is its own.
    [InlineData("2026-11-27T18:00:00Z", null, "i-0new", true)]
    [InlineData("2026-11-27T08:30:00Z", null, "i-0new", true)]
    [InlineData("2026-11-26T18:00:00Z", null, "i-0new", false)]
    // An instance named: only that instance's agent stops, whenever it was requested.
    [InlineData("2026-11-27T18:00:00Z", "i-0old", "i-0new", false)]
    [InlineData("2026-11-26T18:00:00Z", "i-0new", "i-0new", true)]
    [InlineData("2026-11-27T18:00:00Z", "i-0new", null, false)]
    public void StopAppliesTo_StopOfAnotherInstanceOrFromBeforeTheAgentStarted_IsIgnored(string stopAt, string? meant, string? instance, bool applies)
    {
        var control = new ControlDocument { StopAt = DateTimeOffset.Parse(stopAt, System.Globalization.CultureInfo.InvariantCulture), StopInstanceId = meant };

        Assert.Equal(applies, control.StopAppliesTo(instance, SessionStart));
    }

    [Fact]
    public void StopAppliesTo_NoStop_False() => Assert.False(new ControlDocument().StopAppliesTo("i-0new", SessionStart));

    [Fact]
    public void Override_RoundTripsThroughTheDocumentsJson()
    {
        var up = ScheduleOverride.UpFor(TimeSpan.FromHours(3), SessionStart, "alice", "demo");
        var control = new ControlDocument { Override = OverrideDocument.Of(up), UpdatedAt = SessionStart };

        var json = JsonSerializer.Serialize(control, BoxJson.Default.ControlDocument);
        var back = BoxJson.Parse(System.Text.Encoding.UTF8.GetBytes(json), BoxJson.Default.ControlDocument, "control.json");

        Assert.Contains("\"kind\": \"Up\"", json, StringComparison.Ordinal);
        Assert.Contains("\"until\": \"2026-11-27T11:30:00+00:00\"", json, StringComparison.Ordinal);
        Assert.Equal(up, back.Override!.ToOverride());
    }

    [Fact]
    public void Override_EndingBeforeItStarts_IsNoOverride()
    {
        var broken = new OverrideDocument { Kind = OverrideKind.Down, From = SessionStart, Until = SessionStart.AddHours(-1), SetBy = "alice" };

        Assert.Null(broken.ToOverride());
    }
}
