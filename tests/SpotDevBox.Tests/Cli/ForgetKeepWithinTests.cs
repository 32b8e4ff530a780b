using System.Text.Json;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// forget --keep-within on the process's own clock (Debian's faketime, as in <see cref="ScheduleCommandClockTests"/>):
/// the window ends now, not at the newest snapshot, and a snapshot dated in 2100 is kept and reported while the rest of
/// the window stays.
/// </summary>
public sealed class ForgetKeepWithinTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-keep-within-");

    [Fact]
    public async Task Forget_KeepWithin7dWithASnapshotDatedIn2100_KeepsTheLast7DaysFromNowAndTheFutureOne()
    {
        var work = _temp.Sub("work");
        Directory.CreateDirectory(work);
        await File.WriteAllTextAsync(Path.Combine(work, "a.txt"), "hello\n");
        var repo = _temp.Sub("repo");
        var environment = new Dictionary<string, string?> { ["TZ"] = "UTC" };
        foreach (var (clock, i) in new[] { ("2027-01-01 12:00:00", 1), ("2027-01-20 12:00:00", 2), ("2100-01-01 00:00:00", 3) })
        {
            await File.WriteAllTextAsync(Path.Combine(work, "a.txt"), $"version {i}\n");
            var backup = await At(clock).RunAsync(["backup", "--repo", repo, "--init", work], environment);
            Assert.True(backup.ExitCode == 0, backup.ToString());
        }

        var forget = await At("2027-01-22 12:00:00").RunAsync(["forget", "--repo", repo, "--keep-within", "7d", "--json"], environment);

        Assert.True(forget.ExitCode == 0, forget.ToString());
        var decisions = forget.Json().GetProperty("snapshots").EnumerateArray()
            .ToDictionary(d => d.GetProperty("time").GetDateTimeOffset().Year * 100 + d.GetProperty("time").GetDateTimeOffset().Day, d => d);
        Assert.Equal(3, decisions.Count);
        Assert.False(decisions[202701].GetProperty("keep").GetBoolean(), decisions[202701].ToString());
        Assert.True(decisions[202720].GetProperty("keep").GetBoolean(), decisions[202720].ToString());
        Assert.Equal("within 7d", decisions[202720].GetProperty("reason").GetString());
        Assert.True(decisions[210001].GetProperty("keep").GetBoolean(), decisions[210001].ToString());
        Assert.Equal("dated in the future", decisions[210001].GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Forget_KeepWithinNotADuration_Exit2NamingTheOption()
    {
        var result = await new SpotDevBoxProcess(_temp.Sub("state")).RunAsync("forget", "--repo", _temp.Sub("repo"), "--keep-within", "30");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--keep-within '30' is not a duration", result.Stderr, StringComparison.Ordinal);
    }

    private SpotDevBoxProcess At(string clock) => new SpotDevBoxProcess(_temp.Sub("state")).Under(Faketime.Path, "-f", "@" + clock);

    public void Dispose() => _temp.Dispose();
}
