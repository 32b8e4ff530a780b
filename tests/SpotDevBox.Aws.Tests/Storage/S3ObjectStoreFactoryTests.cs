using Amazon;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Aws.Tests.Storage;

public sealed class S3ObjectStoreFactoryTests
{
    private static readonly Dictionary<string, string> BothEndpointVariables = new()
    {
        ["AWS_ENDPOINT_URL_S3"] = "http://s3-only.test:9000",
        ["AWS_ENDPOINT_URL"] = "http://all-services.test:4566",
    };

    [Fact]
    public void ResolveEndpoint_ExplicitOption_WinsOverEnvironment()
    {
        var endpoint = S3ObjectStoreFactory.ResolveEndpoint("http://127.0.0.1:9000", Lookup(BothEndpointVariables));

        Assert.Equal(new Uri("http://127.0.0.1:9000"), endpoint);
    }

    [Fact]
    public void ResolveEndpoint_NoOption_PrefersTheS3SpecificVariable()
    {
        var endpoint = S3ObjectStoreFactory.ResolveEndpoint(null, Lookup(BothEndpointVariables));

        Assert.Equal(new Uri("http://s3-only.test:9000"), endpoint);
    }

    [Fact]
    public void ResolveEndpoint_OnlyTheGeneralVariable_UsesIt()
    {
        var endpoint = S3ObjectStoreFactory.ResolveEndpoint("", Lookup(new() { ["AWS_ENDPOINT_URL"] = "http://all-services.test:4566" }));

        Assert.Equal(new Uri("http://all-services.test:4566"), endpoint);
    }

    [Fact]
    public void ResolveEndpoint_NothingConfigured_IsNullForAwsItself()
    {
        Assert.Null(S3ObjectStoreFactory.ResolveEndpoint(null, Lookup([])));
    }

    [Fact]
    public void ResolveEndpoint_NotAnHttpUrl_ThrowsNamingTheSource()
    {
        var e = Assert.Throws<ArgumentException>(() => S3ObjectStoreFactory.ResolveEndpoint(null, Lookup(new() { ["AWS_ENDPOINT_URL_S3"] = "localhost:9000" })));

        Assert.Contains("AWS_ENDPOINT_URL_S3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResolveRegion_ExplicitOption_WinsOverTheChain()
    {
        var region = S3ObjectStoreFactory.ResolveRegion("eu-west-1", customEndpoint: false, _ => RegionEndpoint.USWest2);

        Assert.Equal("eu-west-1", region.SystemName);
    }

    [Fact]
    public void ResolveRegion_NoOption_UsesTheChainWithInstanceMetadataForAws()
    {
        bool? askedMetadata = null;

        var region = S3ObjectStoreFactory.ResolveRegion(null, customEndpoint: false, metadata => { askedMetadata = metadata; return RegionEndpoint.USWest2; });

        Assert.Equal("us-west-2", region.SystemName);
        Assert.True(askedMetadata);
    }

    [Fact]
    public void ResolveRegion_CustomEndpointAndEmptyChain_FallsBackToUsEast1WithoutInstanceMetadata()
    {
        bool? askedMetadata = null;

        var region = S3ObjectStoreFactory.ResolveRegion(null, customEndpoint: true, metadata => { askedMetadata = metadata; return null; });

        Assert.Equal("us-east-1", region.SystemName);
        Assert.False(askedMetadata);
    }

    [Fact]
    public void ResolveRegion_AwsAndEmptyChain_ThrowsSayingHowToSetIt()
    {
        var e = Assert.Throws<ArgumentException>(() => S3ObjectStoreFactory.ResolveRegion(null, customEndpoint: false, _ => null));

        Assert.Contains("AWS_REGION", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateConfig_CustomEndpoint_UsesPathStyleAndSignsForTheRegion()
    {
        var config = S3ObjectStoreFactory.CreateConfig(new Uri("http://127.0.0.1:9000"), RegionEndpoint.USEast1);

        Assert.Equal("http://127.0.0.1:9000/", config.ServiceURL);
        Assert.True(config.ForcePathStyle);
        Assert.Equal("us-east-1", config.AuthenticationRegion);
    }

    [Fact]
    public void CreateConfig_Aws_UsesTheRegionalEndpointAndBoundedRetries()
    {
        var config = S3ObjectStoreFactory.CreateConfig(null, RegionEndpoint.EUWest1);

        Assert.Equal(RegionEndpoint.EUWest1, config.RegionEndpoint);
        Assert.False(config.ForcePathStyle);
        Assert.Equal(2, config.MaxErrorRetry);
        Assert.Equal(TimeSpan.FromSeconds(3), config.ConnectTimeout);
        Assert.True(config.MaxConnectionsPerServer >= 8);
    }

    [Fact]
    public void Create_LocalRepository_Throws()
    {
        var location = RepositoryLocation.Parse("/srv/backups");

        Assert.Throws<ArgumentException>(() => S3ObjectStoreFactory.Create(location, new S3StoreOptions("http://127.0.0.1:9000", "us-east-1", null)));
    }

    [Fact]
    public void Create_S3Repository_DescribesItsLocation()
    {
        var store = S3ObjectStoreFactory.Create(RepositoryLocation.Parse("s3://backups/box-1"), new S3StoreOptions("http://127.0.0.1:9000", "us-east-1", null));

        Assert.Equal("s3://backups/box-1", store.Location);
        (store as IDisposable)?.Dispose();
    }

    private static Func<string, string?> Lookup(Dictionary<string, string> variables) =>
        name => variables.GetValueOrDefault(name);
}
