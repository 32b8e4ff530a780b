using Microsoft.Extensions.Logging.Abstractions;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Commands;
using SpotDevBox.Hosting;
using TestSupport;

namespace SpotDevBox.Tests.Hosting;

public sealed class TerminalTests
{
    [Theory]
    [InlineData(0, "0.0s")]
    [InlineData(12.34, "12.3s")]
    [InlineData(59.9, "59.9s")]
    [InlineData(60, "1m 00s")]
    [InlineData(425, "7m 05s")]
    [InlineData(3599, "59m 59s")]
    [InlineData(3600, "1h 00m")]
    [InlineData(90_180, "25h 03m")]
    [InlineData(-425, "-7m 05s")]
    public void Duration_Spans_ReadAsSecondsMinutesOrHours(double seconds, string expected) =>
        Assert.Equal(expected, Terminal.Duration(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData(0, "snapshot", "0 snapshots")]
    [InlineData(1, "snapshot", "1 snapshot")]
    [InlineData(2, "snapshot", "2 snapshots")]
    [InlineData(1, "directory", "1 directory")]
    [InlineData(3, "directory", "3 directories")]
    [InlineData(1, "entry", "1 entry")]
    [InlineData(2, "entry", "2 entries")]
    [InlineData(2, "box", "2 boxes")]
    [InlineData(2, "day", "2 days")]
    [InlineData(1, "file or directory", "1 file or directory")]
    [InlineData(4, "file or directory", "4 files or directories")]
    [InlineData(2, "unfinished temporary file", "2 unfinished temporary files")]
    [InlineData(20008, "file", "20,008 files")]
    [InlineData(1, "minute", "1 minute")]
    public void Count_Nouns_SingularForOnePluralOtherwise(long count, string noun, string expected) =>
        Assert.Equal(expected, Terminal.Count(count, noun));

    [Theory]
    // 2026-12-08 17:00 UTC: 22:30 in Kolkata (+05:30, no summer time), 18:00 in Berlin (CET), 12:00 in New York (EST).
    [InlineData("Asia/Kolkata", "Tue 2026-12-08 22:30 +05:30")]
    [InlineData("Europe/Berlin", "Tue 2026-12-08 18:00 +01:00")]
    [InlineData("America/New_York", "Tue 2026-12-08 12:00 -05:00")]
    [InlineData("UTC", "Tue 2026-12-08 17:00 +00:00")]
    public void LocalTime_Instant_WallClockWithItsOffset(string zone, string expected) =>
        Assert.Equal(expected, Terminal.LocalTime(new DateTimeOffset(2026, 12, 8, 17, 0, 0, TimeSpan.Zero), TimeZoneInfo.FindSystemTimeZoneById(zone)));

    [Fact]
    public void PlainLine_KnownTotals_DoneOfTotalInHumanUnitsAndTheRate()
    {
        // 312 MiB of 1.2 GiB (1,288,490,189 bytes), 25 MiB/s
        var sample = new ProgressSample(312L * 1024 * 1024, 1_288_490_189, TotalKnown: true, 1204, 20008, "file", "40.0 MiB uploaded");

        Assert.Equal("backup: 312.0 MiB of 1.2 GiB, 1,204 of 20,008 files, 40.0 MiB uploaded, 25.0 MiB/s", Terminal.PlainLine("backup", sample, 25 * 1024 * 1024));
    }

    [Fact]
    public void PlainLine_TotalStillCounted_SaysAtLeast()
    {
        var sample = new ProgressSample(2048, 4096, TotalKnown: false, 1, 3, "file");

        Assert.Equal("backup: 2.0 KiB of at least 4.0 KiB, 1 of at least 3 files, 512 B/s", Terminal.PlainLine("backup", sample, 512));
    }

    [Fact]
    public void PlainLine_NothingCountedYet_SaysWhatItDoes()
    {
        var sample = new ProgressSample(0, 0, TotalKnown: false, Detail: "reading the snapshot's trees");

        Assert.Equal("restore: reading the snapshot's trees, 0 B/s", Terminal.PlainLine("restore", sample, 0));
    }

    [Fact]
    public async Task PlainProgress_WorkOfTenIntervals_AFewLinesNotOnePerSampleAndNoneAfterTheEnd()
    {
        var output = new StringWriter();
        var samples = 0;
        var work = Task.Delay(TimeSpan.FromMilliseconds(1000)).ContinueWith(_ => 42, TaskScheduler.Default);

        var result = await Terminal.PlainProgressAsync(
            "backup",
            () => new ProgressSample(Interlocked.Increment(ref samples) * 1024L, 10240, TotalKnown: true, samples, 10, "file"),
            work,
            output,
            TimeSpan.FromMilliseconds(100),
            NullLogger.Instance);
        var printed = output.ToString();
        await Task.Delay(300);

        Assert.Equal(42, result);
        var lines = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // About one line per interval: ten at most (a slow machine may print fewer), each with done of total.
        Assert.InRange(lines.Length, 1, 10);
        Assert.All(lines, l => Assert.Matches(@"^backup: \d+\.\d KiB of 10\.0 KiB, \d+ of 10 files, [\d.]+ (B|KiB)/s\r?$", l));
        Assert.Equal(printed, output.ToString());
    }

    [Fact]
    public async Task BackupSample_WalkFinished_TotalIsTheTreesNotTheRunningCount()
    {
        using var temp = new TempDir("spotdevbox-progress-");
        var root = temp.Sub("tree");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        await File.WriteAllBytesAsync(Path.Combine(root, "a.bin"), new byte[1000]);
        await File.WriteAllBytesAsync(Path.Combine(root, "sub", "b.bin"), new byte[2000]);
        await File.WriteAllBytesAsync(Path.Combine(root, "sub", "c.bin"), new byte[3000]);
        await File.WriteAllBytesAsync(Path.Combine(root, "skip.o"), new byte[5000]);

        var estimate = BackupCommand.TreeEstimate.Start([root], ["*.o"], CancellationToken.None);
        while (!estimate.Finished)
        {
            await Task.Delay(10);
        }

        // Nothing backed up yet: done is 0, the total is the tree's (three files, 6000 bytes, the excluded one left out).
        var sample = BackupCommand.Sample(new BackupProgress(), estimate);
        Assert.Equal(new ProgressSample(0, 6000, TotalKnown: true, 0, 3, "file", "0 B uploaded"), sample);
    }

    [Fact]
    public void RestoreSample_BeforeAndAfterThePlan_UnknownThenTheFilesToWrite()
    {
        var progress = new RestoreProgress();
        Assert.Equal(new ProgressSample(0, 0, TotalKnown: false, Detail: "reading the snapshot's trees"), RestoreCommand.Sample(progress));

        progress.Plan(3, 6000);
        progress.Wrote(1000);
        progress.FileDone();

        Assert.Equal(new ProgressSample(1000, 6000, TotalKnown: true, 1, 3, "file"), RestoreCommand.Sample(progress));
    }

    [Theory]
    [InlineData("plain text — with a dash", "plain text — with a dash")]
    [InlineData("a\u001b]0;pwned\u0007b", "ab")]
    [InlineData("a\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\b", "alinkb")]
    [InlineData("a\u001b[2Jb\u001b[38;5;196mc", "abc")]
    [InlineData("a\u001bPq#0;2;0;0;0\u001b\\b", "ab")]
    [InlineData("a\u001b(Bb\u001b7c", "abc")]
    [InlineData("a\u009b2Jb\u0085c\u007fd", "a2Jbcd")]
    [InlineData("a\u0000b\u0008c\u0007d", "abcd")]
    [InlineData("line\r\nforged\tline", "line  forged line")]
    [InlineData("abc\u202edef\u2066g\u200fh", "abcdefgh")]
    [InlineData("trailing\u001b", "trailing")]
    [InlineData("unterminated\u001b]0;title", "unterminated")]
    public void Safe_ControlSequences_Removed(string text, string expected)
    {
        Assert.Equal(expected, Terminal.Safe(text));
    }

    [Fact]
    public void Safe_KeepLineBreaks_KeepsOnlyLineFeeds()
    {
        Assert.Equal("row 1\nrow 2 \n", Terminal.Safe("row 1\nrow\u001b[2J 2\r\n", keepLineBreaks: true));
    }
}
