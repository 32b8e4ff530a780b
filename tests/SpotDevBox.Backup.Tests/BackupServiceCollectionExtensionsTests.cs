using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Repository;

namespace SpotDevBox.Backup.Tests;

public sealed class BackupServiceCollectionExtensionsTests
{
    [Fact]
    public void AddSpotDevBoxBackup_Settings_BoundFromTheBackupSection()
    {
        using var services = Build(new() { ["Backup:ReadConcurrency"] = "3" });

        Assert.Equal(3, services.GetRequiredService<IOptions<BackupEngineOptions>>().Value.ReadConcurrency);
        Assert.IsType<UnixFileSystem>(services.GetRequiredService<IFileSystemMetadata>());
    }

    [Fact]
    public void AddSpotDevBoxBackup_OutOfRangeSetting_StartValidationNamesIt()
    {
        using var services = Build(new() { ["Backup:ReadConcurrency"] = "0" });

        var e = Assert.ThrowsAny<Exception>(() => services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Backup:ReadConcurrency must be between 1 and 64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddSpotDevBoxBackup_UnknownSetting_Refused()
    {
        using var services = Build(new() { ["Backup:ReadConcurency"] = "3" });

        var e = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<IOptions<BackupEngineOptions>>().Value);
        Assert.Contains("ReadConcurency", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddSpotDevBoxBackup_ClockRegisteredFirst_Kept()
    {
        var clock = new FakeTimeProvider();
        var collection = new ServiceCollection().AddSingleton<TimeProvider>(clock);
        collection.AddSpotDevBoxBackup(new ConfigurationBuilder().Build());

        using var services = collection.BuildServiceProvider();

        Assert.Same(clock, services.GetRequiredService<TimeProvider>());
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var collection = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        collection.AddSpotDevBoxBackup(configuration);
        return collection.BuildServiceProvider();
    }
}
