namespace SpotDevBox.Core.Interruption;

/// <summary>How to reach the instance metadata service (IMDS); bound from "Agent:Metadata".</summary>
public sealed class MetadataOptions
{
    public const string SectionName = "Agent:Metadata";

    /// <summary>The service's address; a loopback simulator in tests. IPv6-only Nitro instances use <c>http://[fd00:ec2::254]</c>.</summary>
    public Uri BaseUrl { get; set; } = new("http://169.254.169.254");

    /// <summary>Lifetime asked for each IMDSv2 session token (1 s to 6 h, whole seconds).</summary>
    public TimeSpan TokenTtl { get; set; } = TimeSpan.FromHours(6);

    /// <summary>A token is replaced this long before it expires, so no read meets an expired one.</summary>
    public TimeSpan TokenRefreshBefore { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Timeout of the token PUT. Short: one container hop away the reply is dropped (hop limit 1) and
    /// the only symptom is a timeout.
    /// </summary>
    public TimeSpan TokenRequestTimeout { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary>After a failed token PUT, no new PUT is sent for this long; reads meanwhile are unknown (or IMDSv1 if allowed).</summary>
    public TimeSpan TokenRetryCooldown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Timeout of each read, body included.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Read without a token (IMDSv1) when no token can be had. Off: IMDSv2 only is the secure default.</summary>
    public bool AllowV1Fallback { get; set; }
}
