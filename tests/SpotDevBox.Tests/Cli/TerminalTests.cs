using SpotDevBox.Commands;

namespace SpotDevBox.Tests.Cli;

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
}
