using System.Reflection;
using SpotDevBox.Hosting;

namespace SpotDevBox.Tests.Hosting;

public sealed class ConfigurationFilesTests
{
    [Fact]
    public void Sections_EverySectionNameInTheProgram_IsAKnownSection()
    {
        // Every options class names its section in a SectionName constant ("Agent:Idle" is under "Agent").
        var assemblies = new[] { typeof(ConfigurationFiles).Assembly, typeof(Core.Agent.AgentOptions).Assembly, typeof(Backup.Repository.BackupEngineOptions).Assembly };
        var named = assemblies.SelectMany(a => a.GetTypes())
            .Select(t => t.GetField("SectionName", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string))
            .Select(f => ((string)f!.GetRawConstantValue()!).Split(':')[0])
            .ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(named);
        Assert.Empty(named.Except(ConfigurationFiles.Sections, StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("Bakup", "Backup")]
    [InlineData("backups", "Backup")]
    [InlineData("Storge", "Storage")]
    [InlineData("AWS", "Aws")]
    [InlineData("Controler", "Controller")]
    [InlineData("Agnet", "Agent")]
    public void Nearest_WithinTwoEdits_IsSuggested(string typed, string expected) =>
        Assert.Equal(expected, ConfigurationFiles.Nearest(typed, ConfigurationFiles.Sections));

    [Theory]
    [InlineData("Frobnicate")]
    [InlineData("Boxes")]
    [InlineData("REPOSITORY")]
    public void Nearest_MoreThanTwoEditsFromEveryName_IsNull(string typed) =>
        Assert.Null(ConfigurationFiles.Nearest(typed, ConfigurationFiles.Sections));
}
