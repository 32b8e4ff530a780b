using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Aws.Storage;

/// <summary>
/// A repository under <c>s3://bucket/prefix</c>. Object keys are the repository keys below
/// <c>prefix/</c> (or at the bucket root when the prefix is empty).
/// </summary>
internal sealed class S3ObjectStore(IAmazonS3 client, RepositoryLocation location, string? kmsKeyId, string endpoint, int historyDays = S3StoreOptions.DefaultHistoryDays)
    : IObjectStore, IObjectHistory, IDisposable
{
    /// <summary>The most keys one DeleteObjects call accepts.</summary>
    internal const int DeleteBatchSize = 1000;

    internal const string LifecycleRuleIdPrefix = "spotdevbox-abort-multipart-";

    internal const string HistoryRuleIdPrefix = "spotdevbox-history-";

    private readonly string _bucket = location.Bucket;
    private readonly string _root = location.Prefix;

    public string Location { get; } = location.ToString();

    /// <summary>
    /// One id per repository prefix, so two repositories in one bucket each keep their own rule and
    /// re-initializing replaces the rule instead of adding another.
    /// </summary>
    internal static string LifecycleRuleId(string prefix) =>
        LifecycleRuleIdPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(prefix)).AsSpan(0, 8));

    /// <summary>The id of the rule that expires the prefix's overwritten and deleted versions after the history window.</summary>
    internal static string HistoryRuleId(string prefix) =>
        HistoryRuleIdPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(prefix)).AsSpan(0, 8));

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await RunAsync(key: null, () => client.HeadBucketAsync(new HeadBucketRequest { BucketName = _bucket }, cancellationToken), cancellationToken);

        var (rules, minimumTransitionSize) = await RunAsync(key: null, () => GetLifecycleAsync(cancellationToken), cancellationToken);
        var ruleId = LifecycleRuleId(_root);
        var historyRuleId = HistoryRuleId(_root);
        var filterPrefix = FullKey("");
        if (rules.Any(r => r.Id == ruleId && IsOurRule(r, filterPrefix)) && rules.Any(r => r.Id == historyRuleId && IsOurHistoryRule(r, filterPrefix, historyDays)))
        {
            return;
        }

        // S3 replaces the whole lifecycle configuration on PUT, so keep every rule that is not ours.
        // Two processes initializing at once can still lose one's update; the next run re-adds it.
        var merged = rules.Where(r => r.Id != ruleId && r.Id != historyRuleId).ToList();
        merged.Add(new LifecycleRule
        {
            Id = ruleId,
            Status = LifecycleRuleStatus.Enabled,
            Filter = new LifecycleFilter { LifecycleFilterPredicate = new LifecyclePrefixPredicate { Prefix = filterPrefix } },
            AbortIncompleteMultipartUpload = new LifecycleRuleAbortIncompleteMultipartUpload { DaysAfterInitiation = 1 },
        });
        // The history window: a version that a delete or an overwrite made noncurrent stays this many days, so that
        // recover --as-of can bring it back; after that S3 removes it (in a bucket without versioning it does nothing).
        merged.Add(new LifecycleRule
        {
            Id = historyRuleId,
            Status = LifecycleRuleStatus.Enabled,
            Filter = new LifecycleFilter { LifecycleFilterPredicate = new LifecyclePrefixPredicate { Prefix = filterPrefix } },
            NoncurrentVersionExpiration = new LifecycleRuleNoncurrentVersionExpiration { NoncurrentDays = historyDays },
        });
        var request = new PutLifecycleConfigurationRequest
        {
            BucketName = _bucket,
            Configuration = new LifecycleConfiguration { Rules = merged },
            // A bucket-wide setting that rides along with the rules; left out, S3 would reset it.
            TransitionDefaultMinimumObjectSize = minimumTransitionSize,
        };
        await RunAsync(key: null, () => client.PutLifecycleConfigurationAsync(request, cancellationToken), cancellationToken);
    }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var request = CreatePutRequest(key, content);
        await RunAsync(request.Key, () => client.PutObjectAsync(request, cancellationToken), cancellationToken);
    }

    /// <summary>Single PUT: the engine's objects stay far below S3's 5 GB limit for one request.</summary>
    private PutObjectRequest CreatePutRequest(string key, ReadOnlyMemory<byte> content)
    {
        // Wrap the caller's array instead of copying it; the SDK needs a seekable stream to retry.
        var body = MemoryMarshal.TryGetArray(content, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = FullKey(key),
            InputStream = body,
            AutoCloseStream = true,
            ContentType = "application/octet-stream",
        };
        if (kmsKeyId is null)
        {
            request.ServerSideEncryptionMethod = ServerSideEncryptionMethod.AES256;
        }
        else
        {
            request.ServerSideEncryptionMethod = ServerSideEncryptionMethod.AWSKMS;
            request.ServerSideEncryptionKeyManagementServiceKeyId = kmsKeyId;
        }

        return request;
    }

    public Task<byte[]> GetAsync(string key, CancellationToken cancellationToken)
    {
        var fullKey = FullKey(key);
        return RunAsync(fullKey, async () =>
        {
            try
            {
                using var response = await client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = fullKey }, cancellationToken);
                return await ReadBodyAsync(response, fullKey, response.ContentLength, cancellationToken);
            }
            catch (AmazonS3Exception e) when (IsAccessDenied(e))
            {
                if (await IsAbsentAsync(fullKey, cancellationToken))
                {
                    throw new StorageException(StorageFailure.NotFound, $"object '{fullKey}' in bucket '{_bucket}' does not exist", e);
                }

                throw;
            }
        }, cancellationToken);
    }

    public async Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var buffer = length == 0 ? [] : new byte[length];
        await ReadRangeAsync(key, offset, buffer, cancellationToken);
        return buffer;
    }

    public Task ReadRangeAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var fullKey = FullKey(key);
        var length = destination.Length;
        if (length == 0)
        {
            // An HTTP range cannot be empty; there is nothing to fetch.
            return Task.CompletedTask;
        }

        return RunAsync(fullKey, async () =>
        {
            var request = new GetObjectRequest
            {
                BucketName = _bucket,
                Key = fullKey,
                ByteRange = new ByteRange(offset, offset + length - 1),
            };
            using var response = await client.GetObjectAsync(request, cancellationToken);
            await ReadBodyIntoAsync(response, fullKey, destination, cancellationToken);
            return 0;
        }, cancellationToken);
    }

    public Task<long?> GetSizeAsync(string key, CancellationToken cancellationToken)
    {
        var fullKey = FullKey(key);
        return RunAsync<long?>(fullKey, async () =>
        {
            try
            {
                var response = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = fullKey }, cancellationToken);
                return response.ContentLength;
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                // HEAD has no body, so a missing key and a missing bucket look alike; InitializeAsync
                // is where a missing bucket is reported.
                return null;
            }
            catch (AmazonS3Exception e) when (IsAccessDenied(e))
            {
                if (await IsAbsentAsync(fullKey, cancellationToken))
                {
                    return null;
                }

                throw;
            }
        }, cancellationToken);
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var rootLength = FullKey("").Length;
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = FullKey(prefix) };
        while (true)
        {
            var page = await RunAsync(key: null, () => client.ListObjectsV2Async(request, cancellationToken), cancellationToken);
            foreach (var item in page.S3Objects ?? [])
            {
                yield return new StoredObject(item.Key[rootLength..], item.Size ?? 0, ToUtcOffset(item.LastModified));
            }

            if (page.IsTruncated != true)
            {
                yield break;
            }

            request.ContinuationToken = !string.IsNullOrEmpty(page.NextContinuationToken)
                ? page.NextContinuationToken
                : throw new StorageException(StorageFailure.Other, $"S3 listing of {Location} is truncated but has no continuation token");
        }
    }

    public async Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var batch in keys.Chunk(DeleteBatchSize))
        {
            var request = new DeleteObjectsRequest
            {
                BucketName = _bucket,
                Quiet = true,
                Objects = batch.Select(k => new KeyVersion { Key = FullKey(k) }).ToList(),
            };
            var response = await RunAsync(key: null, () => client.DeleteObjectsAsync(request, cancellationToken), cancellationToken);

            // S3 reports a missing key as deleted; some compatible servers report NoSuchKey instead.
            var errors = (response.DeleteErrors ?? []).Where(e => e.Code != "NoSuchKey").ToList();
            if (errors.Count > 0)
            {
                var first = errors[0];
                var failure = first.Code == "AccessDenied" ? StorageFailure.AccessDenied : StorageFailure.Other;
                throw new StorageException(failure, $"S3 did not delete {errors.Count} of {batch.Length} objects in {Location}; first '{first.Key}': {first.Code} {first.Message}");
            }
        }
    }

    public Task<VersionedObject?> GetVersionedAsync(string key, CancellationToken cancellationToken)
    {
        var fullKey = FullKey(key);
        return RunAsync<VersionedObject?>(fullKey, async () =>
        {
            try
            {
                using var response = await client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = fullKey }, cancellationToken);
                var content = await ReadBodyAsync(response, fullKey, response.ContentLength, cancellationToken);
                return new VersionedObject(content, response.ETag);
            }
            catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey")
            {
                return null;
            }
            catch (AmazonS3Exception e) when (IsAccessDenied(e))
            {
                if (await IsAbsentAsync(fullKey, cancellationToken))
                {
                    return null;
                }

                throw;
            }
        }, cancellationToken);
    }

    /// <summary>
    /// S3 answers a GET or HEAD of a missing key with 403, not 404, to a caller that may not list the whole bucket
    /// (s3:ListBucket granted only under a prefix, as in every policy of deploy/iam). So a 403 on a read means
    /// "missing" only when a listing of exactly that key (prefix = the key, one key at most; the same prefix grant
    /// allows it) does not name it: a key listed but refused, or a listing refused too, stays AccessDenied.
    /// </summary>
    private async Task<bool> IsAbsentAsync(string fullKey, CancellationToken cancellationToken)
    {
        ListObjectsV2Response page;
        try
        {
            page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = fullKey, MaxKeys = 1 }, cancellationToken);
        }
        catch (AmazonS3Exception)
        {
            return false;
        }

        // The key itself sorts first among the keys it prefixes, so one key is enough to see it.
        return !(page.S3Objects ?? []).Any(o => o.Key == fullKey);
    }

    private static bool IsAccessDenied(AmazonS3Exception e) => e.StatusCode == HttpStatusCode.Forbidden || e.ErrorCode == "AccessDenied";

    /// <summary>
    /// A PUT with <c>If-None-Match: *</c> or <c>If-Match: ETAG</c>. S3 answers 412 PreconditionFailed when the
    /// object is not as expected, 409 ConditionalRequestConflict when another conditional write to the key is
    /// in flight, and 404 NoSuchKey for If-Match on a key that went: each means another writer got there first.
    /// </summary>
    public async Task<bool> PutIfAsync(string key, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken)
    {
        var request = CreatePutRequest(key, content);
        if (expectedETag is null)
        {
            request.IfNoneMatch = "*";
        }
        else
        {
            request.IfMatch = expectedETag;
        }

        return await RunAsync(request.Key, async () =>
        {
            try
            {
                await client.PutObjectAsync(request, cancellationToken);
                return true;
            }
            catch (AmazonS3Exception e) when (IsLostCondition(e, expectedETag is not null))
            {
                return false;
            }
        }, cancellationToken);
    }

    internal static bool IsLostCondition(AmazonS3Exception e, bool ifMatch) =>
        e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict
        || e.ErrorCode is "PreconditionFailed" or "ConditionalRequestConflict"
        || (ifMatch && (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket"));

    public void Dispose() => client.Dispose();

    private string FullKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _root.Length == 0 ? key : _root + "/" + key;
    }

    private async Task<(List<LifecycleRule> Rules, TransitionDefaultMinimumObjectSize? MinimumTransitionSize)> GetLifecycleAsync(CancellationToken cancellationToken)
    {
        try
        {
            var response = await client.GetLifecycleConfigurationAsync(new GetLifecycleConfigurationRequest { BucketName = _bucket }, cancellationToken);
            return (response.Configuration?.Rules ?? [], response.TransitionDefaultMinimumObjectSize);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchLifecycleConfiguration")
        {
            return ([], null);
        }
    }

    private static bool IsOurHistoryRule(LifecycleRule rule, string filterPrefix, int days) =>
        rule.Status == LifecycleRuleStatus.Enabled
        && rule.NoncurrentVersionExpiration?.NoncurrentDays == days
        && rule.NoncurrentVersionExpiration.NewerNoncurrentVersions is null or 0
        && rule.Expiration is null
        && (rule.Transitions is null || rule.Transitions.Count == 0)
        && (RuleFilterPrefix(rule) ?? "") == filterPrefix;

    public Task<VersioningState> GetVersioningAsync(CancellationToken cancellationToken) =>
        RunAsync(key: null, async () =>
        {
            var response = await client.GetBucketVersioningAsync(new GetBucketVersioningRequest { BucketName = _bucket }, cancellationToken);
            var status = response.VersioningConfig?.Status?.Value;
            return status == VersionStatus.Enabled.Value ? VersioningState.Enabled
                : status == VersionStatus.Suspended.Value ? VersioningState.Suspended
                : VersioningState.Off;
        }, cancellationToken);

    public async IAsyncEnumerable<ObjectVersion> ListVersionsAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var rootLength = FullKey("").Length;
        var request = new ListVersionsRequest { BucketName = _bucket, Prefix = FullKey(prefix) };
        while (true)
        {
            var page = await RunAsync(key: null, () => client.ListVersionsAsync(request, cancellationToken), cancellationToken);
            foreach (var v in page.Versions ?? [])
            {
                yield return new ObjectVersion(v.Key[rootLength..], v.VersionId ?? "null", ToUtcOffset(v.LastModified), v.IsDeleteMarker == true, v.IsLatest == true, v.ETag ?? "", v.Size ?? 0);
            }

            if (page.IsTruncated != true)
            {
                yield break;
            }

            request.KeyMarker = page.NextKeyMarker;
            request.VersionIdMarker = page.NextVersionIdMarker;
            if (string.IsNullOrEmpty(request.KeyMarker))
            {
                throw new StorageException(StorageFailure.Other, $"S3 version listing of {Location} is truncated but has no key marker");
            }
        }
    }

    /// <summary>CopyObject from a version onto the same key, encrypted as a PUT of this store would be.</summary>
    public Task RestoreVersionAsync(string key, string versionId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(versionId);
        var fullKey = FullKey(key);
        var request = new CopyObjectRequest
        {
            SourceBucket = _bucket,
            SourceKey = fullKey,
            SourceVersionId = versionId,
            DestinationBucket = _bucket,
            DestinationKey = fullKey,
        };
        if (kmsKeyId is null)
        {
            request.ServerSideEncryptionMethod = ServerSideEncryptionMethod.AES256;
        }
        else
        {
            request.ServerSideEncryptionMethod = ServerSideEncryptionMethod.AWSKMS;
            request.ServerSideEncryptionKeyManagementServiceKeyId = kmsKeyId;
        }

        return RunAsync(fullKey, () => client.CopyObjectAsync(request, cancellationToken), cancellationToken);
    }

    private static bool IsOurRule(LifecycleRule rule, string filterPrefix) =>
        rule.Status == LifecycleRuleStatus.Enabled
        && rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation == 1
        && rule.Expiration is null
        && (rule.Transitions is null || rule.Transitions.Count == 0)
        && (RuleFilterPrefix(rule) ?? "") == filterPrefix;

    /// <summary>The SDK reads a filter prefix back as a predicate, but accepts it in either form.</summary>
    internal static string? RuleFilterPrefix(LifecycleRule rule) =>
        rule.Filter?.Prefix ?? (rule.Filter?.LifecycleFilterPredicate as LifecyclePrefixPredicate)?.Prefix;

    private static async Task<byte[]> ReadBodyAsync(GetObjectResponse response, string fullKey, long expectedLength, CancellationToken cancellationToken)
    {
        if (expectedLength < 0 || expectedLength > Array.MaxLength)
        {
            throw new StorageException(StorageFailure.Rejected, $"object '{fullKey}' has {expectedLength} bytes, too many to read into memory");
        }

        if (response.ContentLength != expectedLength)
        {
            // S3 shortens a range that runs past the end of the object instead of failing it.
            throw new StorageException(StorageFailure.Rejected, $"object '{fullKey}' returned {response.ContentLength} bytes where {expectedLength} were asked for; the range runs past its end");
        }

        var buffer = new byte[expectedLength];
        await ReadBodyIntoAsync(response, fullKey, buffer, cancellationToken);
        return buffer;
    }

    private static async Task ReadBodyIntoAsync(GetObjectResponse response, string fullKey, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (response.ContentLength != destination.Length)
        {
            // S3 shortens a range that runs past the end of the object instead of failing it.
            throw new StorageException(StorageFailure.Rejected, $"object '{fullKey}' returned {response.ContentLength} bytes where {destination.Length} were asked for; the range runs past its end");
        }

        await response.ResponseStream.ReadExactlyAsync(destination, cancellationToken);
    }

    private static DateTimeOffset ToUtcOffset(DateTime? value) => value switch
    {
        null => DateTimeOffset.MinValue,
        { Kind: DateTimeKind.Unspecified } v => new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)),
        { } v => new DateTimeOffset(v.ToUniversalTime()),
    };

    private async Task<T> RunAsync<T>(string? key, Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            return await operation();
        }
        catch (Exception e) when (e is not StorageException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw S3ErrorMapper.Map(e, new S3CallContext(_bucket, Location, endpoint, key));
        }
    }
}
