using System.Reflection;
using SpotDevBox.Core.Boxes;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>The README's table of box settings has a row for every setting a box has, and no row for one it lacks.</summary>
public sealed class BoxSettingsReadmeTests
{
    [Fact]
    public void Readme_BoxSettingsTable_HasARowForEverySettingOfABoxAndNoOther()
    {
        var readme = File.ReadAllLines(Path.Combine(S3PeerFixture.RepositoryRoot, "README.md"));
        var start = Array.FindIndex(readme, l => l.StartsWith("Every setting of a box", StringComparison.Ordinal));
        Assert.True(start >= 0, "README.md has no table of box settings ('Every setting of a box ...')");
        var rows = readme.Skip(start + 1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2)
            .Select(l => l.Split('|')[1].Trim().Trim('`'))
            .ToList();

        var settings = typeof(BoxOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name);

        Assert.Equal(settings.Order(StringComparer.Ordinal), rows.Order(StringComparer.Ordinal));
    }
}
