using Microsoft.Extensions.Options;

namespace SpotDevBox.Aws.Compute;

/// <summary>How the verbs reach EC2, from the "Aws:Ec2" section.</summary>
public sealed class Ec2Options
{
    public const string SectionName = "Aws:Ec2";

    /// <summary>
    /// An EC2-compatible endpoint (http or https) instead of AWS's regional one: for tests, and for private
    /// endpoints (a VPC interface endpoint's DNS name). Empty: AWS itself, in each box's region.
    /// </summary>
    public string ServiceUrl { get; set; } = "";
}

public sealed class Ec2OptionsValidator : IValidateOptions<Ec2Options>
{
    public ValidateOptionsResult Validate(string? name, Ec2Options options) =>
        string.IsNullOrWhiteSpace(options.ServiceUrl)
        || (Uri.TryCreate(options.ServiceUrl.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{Ec2Options.SectionName}:ServiceUrl must be an http(s) URL (the value is not printed: a URL may carry a secret)");
}
