using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SpotDevBox.Aws.Compute;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Aws.Tests;

public sealed class AwsServiceCollectionExtensionsTests
{
    [Fact]
    public void AddSpotDevBoxAws_ServiceUrlNotHttp_StartValidationNamesTheSettingNotTheValue()
    {
        using var services = Build(new() { ["Aws:Ec2:ServiceUrl"] = "ftp://user:hunter2@example.test" }, onBox: false);

        var e = Assert.ThrowsAny<Exception>(() => services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Aws:Ec2:ServiceUrl must be an http(s) URL", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddSpotDevBoxAws_Defaults_OneGatewayFactoryAndNothingOfTheBox()
    {
        using var services = Build([], onBox: false);

        services.GetRequiredService<IStartupValidator>().Validate();
        Assert.IsType<Ec2ComputeGatewayFactory>(services.GetRequiredService<IComputeGatewayFactory>());
        Assert.Null(services.GetService<IMetadataClient>());
        Assert.Null(services.GetService<ISecretParameters>());
    }

    [Fact]
    public void AddSpotDevBoxAwsOnBox_BadMetadataUrl_StartValidationNamesIt()
    {
        using var services = Build(new() { ["Agent:Metadata:BaseUrl"] = "file:///etc" }, onBox: true);

        var e = Assert.ThrowsAny<Exception>(() => services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Agent:Metadata", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddSpotDevBoxAwsOnBox_Registers_TheMetadataClientAndTheParameters()
    {
        using var services = Build([], onBox: true);

        // Registered, not built: building either would look for the instance's region.
        var registered = services.GetRequiredService<IServiceProviderIsService>();
        Assert.True(registered.IsService(typeof(IMetadataClient)));
        Assert.True(registered.IsService(typeof(ISecretParameters)));
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings, bool onBox)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var collection = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        collection.AddSpotDevBoxAws(configuration);
        if (onBox)
        {
            collection.AddSpotDevBoxAwsOnBox(configuration);
        }

        return collection.BuildServiceProvider();
    }
}
