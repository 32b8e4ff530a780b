using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Tests.Compute;

public sealed class SpotPriceHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Latest_SeveralChangesPerPlacement_NewestPerPlacementCheapestFirst()
    {
        var history = new SpotPriceHistory(
        [
            new("m6i.large", "us-east-1a", "Linux/UNIX", 0.0300m, T0),
            new("m6i.large", "us-east-1a", "Linux/UNIX", 0.0500m, T0.AddMinutes(20)),
            new("m6i.large", "us-east-1b", "Linux/UNIX", 0.0400m, T0.AddMinutes(5)),
            new("m7i.large", "us-east-1b", "Linux/UNIX", 0.0400m, T0.AddMinutes(1)),
            new("m7i.large", "us-east-1a", "Linux/UNIX", 0.0350m, T0.AddMinutes(1)),
        ]);

        Assert.Equal(
            [
                new SpotPricePoint("m7i.large", "us-east-1a", "Linux/UNIX", 0.0350m, T0.AddMinutes(1)),
                new SpotPricePoint("m6i.large", "us-east-1b", "Linux/UNIX", 0.0400m, T0.AddMinutes(5)),
                new SpotPricePoint("m7i.large", "us-east-1b", "Linux/UNIX", 0.0400m, T0.AddMinutes(1)),
                new SpotPricePoint("m6i.large", "us-east-1a", "Linux/UNIX", 0.0500m, T0.AddMinutes(20)),
            ],
            history.Latest);
    }

    [Fact]
    public void Latest_NoPoints_Empty()
    {
        Assert.Empty(new SpotPriceHistory([]).Latest);
    }
}
