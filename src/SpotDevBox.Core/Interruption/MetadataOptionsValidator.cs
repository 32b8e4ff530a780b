using Microsoft.Extensions.Options;

namespace SpotDevBox.Core.Interruption;

/// <summary>Names the setting, the limit and the value, so a bad config stops the program with a useful line.</summary>
public sealed class MetadataOptionsValidator : IValidateOptions<MetadataOptions>
{
    public ValidateOptionsResult Validate(string? name, MetadataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var s = MetadataOptions.SectionName;
        if (options.BaseUrl is null || !options.BaseUrl.IsAbsoluteUri || (options.BaseUrl.Scheme != Uri.UriSchemeHttp && options.BaseUrl.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add($"{s}:BaseUrl must be an absolute http:// URL (the value is not printed: a URL may carry a secret)");
        }

        // The service accepts 1..21600 seconds in the TTL header.
        OptionRange.Check(failures, $"{s}:TokenTtl", options.TokenTtl, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(21600));
        if (options.TokenTtl.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            failures.Add($"{s}:TokenTtl must be a whole number of seconds, got {options.TokenTtl}");
        }

        if (options.TokenRefreshBefore < TimeSpan.Zero || options.TokenRefreshBefore >= options.TokenTtl)
        {
            failures.Add($"{s}:TokenRefreshBefore must be at least 00:00:00 and shorter than {s}:TokenTtl ({options.TokenTtl}), got {options.TokenRefreshBefore}");
        }

        OptionRange.Check(failures, $"{s}:TokenRequestTimeout", options.TokenRequestTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));
        OptionRange.Check(failures, $"{s}:TokenRetryCooldown", options.TokenRetryCooldown, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
        OptionRange.Check(failures, $"{s}:RequestTimeout", options.RequestTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
