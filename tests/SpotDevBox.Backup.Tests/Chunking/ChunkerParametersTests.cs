using SpotDevBox.Backup.Chunking;

namespace SpotDevBox.Backup.Tests.Chunking;

public class ChunkerParametersTests
{
    [Fact]
    public void Default_IsQuarterOneAndFourMebibytes()
    {
        var parameters = ChunkerParameters.Default;

        Assert.Equal(262_144, parameters.MinSize);
        Assert.Equal(1_048_576, parameters.AverageSize);
        Assert.Equal(4_194_304, parameters.MaxSize);
    }

    [Theory]
    [InlineData(63, 256, 1024, "minSize")]
    [InlineData(256, 256, 1024, "averageSize")]
    [InlineData(300, 256, 1024, "averageSize")]
    [InlineData(64, 384, 1024, "averageSize")]
    [InlineData(64, 256, 256, "maxSize")]
    [InlineData(64, 256, 200, "maxSize")]
    [InlineData(64, 256, 268_435_457, "maxSize")]
    public void Constructor_InvalidSizes_ThrowsNamingTheParameter(int min, int average, int max, string parameter)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ChunkerParameters(min, average, max));

        Assert.Equal(parameter, e.ParamName);
    }

    [Fact]
    public void Constructor_SmallestAndLargestAllowed_Succeeds()
    {
        var smallest = new ChunkerParameters(64, 128, 129);
        var largest = new ChunkerParameters(64 * 1024 * 1024, 128 * 1024 * 1024, 256 * 1024 * 1024);

        Assert.Equal(129, smallest.MaxSize);
        Assert.Equal(268_435_456, largest.MaxSize);
    }
}
