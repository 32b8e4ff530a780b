using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace SpotDevBox.Deploy;

internal static class DeployRegistration
{
    /// <summary>The AWS CLI the deploying verbs run (Aws:Cli); TryAdd, so a test can put in another runner or factory.</summary>
    public static IServiceCollection AddSpotDevBoxDeploy(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AwsCliOptions>().BindConfiguration(AwsCliOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AwsCliOptions>, AwsCliOptionsValidator>());
        services.TryAddSingleton<IProcessRunner, ProcessRunner>();
        services.TryAddSingleton<IAwsCliFactory, AwsCliFactory>();
        _ = configuration;
        return services;
    }
}
