using Microsoft.Extensions.Options;

namespace SpotDevBox.Repositories;

/// <summary>How to reach S3, from the "Storage" section; the command line overrides each setting.</summary>
internal sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>An S3-compatible endpoint; empty uses AWS_ENDPOINT_URL_S3 or AWS itself.</summary>
    public string EndpointUrl { get; set; } = "";

    /// <summary>Empty uses the SDK's region chain (AWS_REGION, profile, instance metadata).</summary>
    public string Region { get; set; } = "";

    /// <summary>Encrypt with this KMS key (SSE-KMS) instead of SSE-S3.</summary>
    public string KmsKeyId { get; set; } = "";
}

internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.EndpointUrl)
            && (!Uri.TryCreate(options.EndpointUrl, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")))
        {
            return ValidateOptionsResult.Fail($"{StorageOptions.SectionName}:EndpointUrl must be an http(s) URL (the value is not printed: a URL may carry a secret)");
        }

        return ValidateOptionsResult.Success;
    }
}
