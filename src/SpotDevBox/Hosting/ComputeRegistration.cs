using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SpotDevBox.Aws.Compute;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Hosting;

/// <summary>How the verbs reach EC2, from the "Aws:Ec2" section.</summary>
internal sealed class Ec2Options
{
    public const string SectionName = "Aws:Ec2";

    /// <summary>
    /// An EC2-compatible endpoint (http or https) instead of AWS's regional one: for tests, and for private
    /// endpoints (a VPC interface endpoint's DNS name). Empty: AWS itself, in each box's region.
    /// </summary>
    public string ServiceUrl { get; set; } = "";
}

internal sealed class Ec2OptionsValidator : IValidateOptions<Ec2Options>
{
    public ValidateOptionsResult Validate(string? name, Ec2Options options) =>
        string.IsNullOrWhiteSpace(options.ServiceUrl)
        || (Uri.TryCreate(options.ServiceUrl.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{Ec2Options.SectionName}:ServiceUrl must be an http(s) URL (the value is not printed: a URL may carry a secret)");
}

internal static class ComputeRegistration
{
    /// <summary>
    /// One <see cref="IComputeGatewayFactory"/> (a gateway per region, each built on its first call, so a verb
    /// that never calls EC2 never looks for credentials); TryAdd, so a host or a test can put another in.
    /// </summary>
    public static IServiceCollection AddSpotDevBoxCompute(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<Ec2Options>().BindConfiguration(Ec2Options.SectionName, o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Ec2Options>, Ec2OptionsValidator>());
        services.TryAddSingleton<IComputeGatewayFactory>(sp =>
        {
            var url = sp.GetRequiredService<IOptions<Ec2Options>>().Value.ServiceUrl;
            return new Ec2ComputeGatewayFactory(new Ec2GatewayOptions(string.IsNullOrWhiteSpace(url) ? null : url.Trim()));
        });
        services.TryAddSingleton<Ssh.BoxConnections>();
        _ = configuration;
        return services;
    }
}
