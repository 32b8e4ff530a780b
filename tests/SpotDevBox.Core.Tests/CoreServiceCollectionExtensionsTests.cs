using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Moq;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Idle;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Tests;

public sealed class CoreServiceCollectionExtensionsTests
{
    [Fact]
    public void AddSpotDevBoxPrices_ThreePorts_OneBookOverTheHostsFolders()
    {
        var asked = 0;
        using var services = Build([], s => s.AddSpotDevBoxPrices(Configuration([]), _ =>
        {
            asked++;
            return [];
        }));

        var book = services.GetRequiredService<PriceBook>();
        Assert.Same(book, services.GetRequiredService<IOnDemandPrices>());
        Assert.Same(book, services.GetRequiredService<IStoragePrices>());
        Assert.Same(book, services.GetRequiredService<ISpotAdvisor>());
        Assert.Equal(1, asked);
    }

    [Fact]
    public void AddSpotDevBoxPrices_UnknownSetting_Refused()
    {
        using var services = Build(new() { ["Prices:NoSuchSetting"] = "1" }, s => s.AddSpotDevBoxPrices(Configuration([]), _ => []));

        var e = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<IOptions<PriceOptions>>().Value);
        Assert.Contains("NoSuchSetting", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddSpotDevBoxAgentDomain_HostRoot_FromAgentHostRoot()
    {
        using var services = Build(new()
        {
            ["Agent:HostRoot"] = "/srv/box-root",
            ["Agent:Box"] = "s3://my-bucket/boxes/alice/alice",
            ["Agent:PasswordFile"] = "/etc/spotdevbox/password",
            ["Agent:User"] = "alice",
        }, s => s.AddSpotDevBoxAgentDomain(Configuration([])));

        Assert.Equal("/srv/box-root", services.GetRequiredService<HostRoot>().Path);
    }

    [Fact]
    public void AddSpotDevBoxControllerDomain_BudgetGuardRegisteredFirst_Kept()
    {
        var guard = Mock.Of<IBudgetGuard>();
        using var services = Build([], s => s.AddSingleton(guard).AddSpotDevBoxControllerDomain());

        Assert.Same(guard, services.GetRequiredService<IBudgetGuard>());
        Assert.True(services.GetRequiredService<IServiceProviderIsService>().IsService(typeof(Reconciler)));
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    private static ServiceProvider Build(Dictionary<string, string?> settings, Action<IServiceCollection> add)
    {
        var collection = new ServiceCollection().AddSingleton(Configuration(settings)).AddLogging();
        add(collection);
        return collection.BuildServiceProvider();
    }
}
