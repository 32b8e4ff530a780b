namespace SpotDevBox.Aws.Storage;

/// <summary>
/// How to reach the S3 bucket of a repository. Every value may be null: the endpoint then comes from
/// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, the region from the SDK's usual sources, and objects are
/// encrypted with S3-managed keys (SSE-S3) unless a KMS key is named.
/// </summary>
/// <param name="EndpointUrl">An S3-compatible endpoint such as <c>http://127.0.0.1:9000</c>; null for AWS itself.</param>
/// <param name="Region">AWS region name such as <c>eu-west-1</c>.</param>
/// <param name="KmsKeyId">Key id, alias or ARN for SSE-KMS; null for SSE-S3 (AES256).</param>
/// <param name="HistoryDays">
/// How long S3 keeps a version after it was overwritten or deleted: the NoncurrentVersionExpiration rule that
/// initializing a repository puts on its prefix (the history <c>recover --as-of</c> can reach).
/// </param>
public sealed record S3StoreOptions(string? EndpointUrl, string? Region, string? KmsKeyId, int HistoryDays = S3StoreOptions.DefaultHistoryDays)
{
    public const int DefaultHistoryDays = 30;
    public const int MaxHistoryDays = 3650;
}
