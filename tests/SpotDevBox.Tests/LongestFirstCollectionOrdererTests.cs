namespace SpotDevBox.Tests;

public sealed class LongestFirstCollectionOrdererTests
{
    [Fact]
    public void Longest_EachNameIsACollectionOfThisAssembly()
    {
        var defined = typeof(LongestFirstCollectionOrdererTests).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributesData())
            .Where(a => a.AttributeType == typeof(CollectionDefinitionAttribute) && a.ConstructorArguments.Count > 0)
            .Select(a => a.ConstructorArguments[0].Value as string ?? "")
            .ToHashSet(StringComparer.Ordinal);

        // A renamed collection would silently lose its place: the order is only a speed-up, but it should be true.
        Assert.Subset(defined, new HashSet<string>([.. LongestFirstCollectionOrderer.Longest, LongestFirstCollectionOrderer.Last], StringComparer.Ordinal));
    }

    [Fact]
    public void Rank_LongestInTheirOrderOthersThenTheReleaseBuildLast()
    {
        Assert.Equal(
            ["moto-setup", "s3-controller", "Test collection for X", "release build"],
            new[] { "release build", "Test collection for X", "s3-controller", "moto-setup" }.OrderBy(LongestFirstCollectionOrderer.Rank));
    }
}
