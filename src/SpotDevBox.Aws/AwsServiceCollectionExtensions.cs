using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SpotDevBox.Aws.Compute;
using SpotDevBox.Aws.Metadata;
using SpotDevBox.Aws.Parameters;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Aws;

/// <summary>The AWS adapters, for a host to compose; TryAdd, so a host or a test can put another in first.</summary>
public static class AwsServiceCollectionExtensions
{
    /// <summary>
    /// EC2 ("Aws:Ec2", validated at start): one <see cref="IComputeGatewayFactory"/>, a gateway per region, each built
    /// on its first call, so a verb that never calls EC2 never looks for credentials.
    /// </summary>
    public static IServiceCollection AddSpotDevBoxAws(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<Ec2Options>().BindConfiguration(Ec2Options.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Ec2Options>, Ec2OptionsValidator>());
        services.TryAddSingleton<IComputeGatewayFactory>(sp =>
        {
            var url = sp.GetRequiredService<IOptions<Ec2Options>>().Value.ServiceUrl;
            return new Ec2ComputeGatewayFactory(new Ec2GatewayOptions(string.IsNullOrWhiteSpace(url) ? null : url.Trim()));
        });
        // The options bind from the host's configuration (BindConfiguration); the parameter keeps the shape of the others.
        _ = configuration;
        return services;
    }

    /// <summary>
    /// What only the agent on a box uses: the instance metadata service ("Agent:Metadata", validated at start: only a
    /// host that runs the agent adds it) and the SSM parameters its webhook secrets come from.
    /// </summary>
    public static IServiceCollection AddSpotDevBoxAwsOnBox(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<MetadataOptions>().BindConfiguration(MetadataOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MetadataOptions>, MetadataOptionsValidator>());
        services.TryAddSingleton<IMetadataClient, ImdsMetadataClient>();
        services.TryAddSingleton<ISecretParameters, SsmSecretParameters>();
        _ = configuration;
        return services;
    }
}
