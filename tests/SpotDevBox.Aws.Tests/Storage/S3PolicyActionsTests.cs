using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using Amazon;
using Amazon.S3;
using Microsoft.AspNetCore.Http;
using SpotDevBox.Aws.Parameters;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Aws.Tests.Storage;

/// <summary>
/// The S3 and SSM actions of deploy/iam held to the calls the code makes, as ControllerPolicyTests does for EC2:
/// every <see cref="IObjectStore"/> method of <see cref="S3ObjectStore"/> runs against the S3 peer through a client
/// that records each SDK operation, and the recording must equal <see cref="StoreMethodOperations"/>; each policy's
/// S3 actions must then equal what its component's store methods need (<see cref="SdkOperationActions"/>). A new SDK
/// call, or a component that starts using another store method, fails here until the table and the policy say so.
/// </summary>
[Collection("s3")]
public sealed class S3PolicyActionsTests(S3PeerFixture peer)
{
    /// <summary>The IAM action each SDK operation of S3ObjectStore needs (AWS's service authorization reference).</summary>
    internal static readonly Dictionary<string, string> SdkOperationActions = new(StringComparer.Ordinal)
    {
        // recover: versioning, the version listing, and a copy from a version (it reads the version and writes the key)
        ["GetBucketVersioning"] = "s3:GetBucketVersioning",
        ["ListVersions"] = "s3:ListBucketVersions",
        ["CopyObject"] = "s3:GetObjectVersion s3:PutObject",
        ["HeadBucket"] = "s3:ListBucket",
        ["GetLifecycleConfiguration"] = "s3:GetLifecycleConfiguration",
        ["PutLifecycleConfiguration"] = "s3:PutLifecycleConfiguration",
        ["GetObject"] = "s3:GetObject",
        ["GetObjectMetadata"] = "s3:GetObject",
        ["PutObject"] = "s3:PutObject",
        ["ListObjectsV2"] = "s3:ListBucket",
        ["DeleteObjects"] = "s3:DeleteObject",
    };

    /// <summary>
    /// The SDK operations each store method makes. The reads list the key after a 403 (a missing object under a
    /// prefix-conditioned s3:ListBucket, S3ObjectStore.IsAbsentAsync): that ListObjectsV2 is counted separately below.
    /// </summary>
    internal static readonly Dictionary<string, string[]> StoreMethodOperations = new(StringComparer.Ordinal)
    {
        // IObjectHistory (S3 only; recorded against moto by S3HistoryActionsTests, fauxqs has no versioning)
        [nameof(IObjectHistory.GetVersioningAsync)] = ["GetBucketVersioning"],
        [nameof(IObjectHistory.ListVersionsAsync)] = ["ListVersions"],
        [nameof(IObjectHistory.RestoreVersionAsync)] = ["CopyObject"],
        [nameof(IObjectStore.InitializeAsync)] = ["HeadBucket", "GetLifecycleConfiguration", "PutLifecycleConfiguration"],
        [nameof(IObjectStore.PutAsync)] = ["PutObject"],
        [nameof(IObjectStore.PutIfAsync)] = ["PutObject"],
        [nameof(IObjectStore.GetAsync)] = ["GetObject", "ListObjectsV2"],
        [nameof(IObjectStore.GetRangeAsync)] = ["GetObject"],
        [nameof(IObjectStore.ReadRangeAsync)] = ["GetObject"],
        [nameof(IObjectStore.GetSizeAsync)] = ["GetObjectMetadata", "ListObjectsV2"],
        [nameof(IObjectStore.GetVersionedAsync)] = ["GetObject", "ListObjectsV2"],
        [nameof(IObjectStore.ListAsync)] = ["ListObjectsV2"],
        [nameof(IObjectStore.DeleteAsync)] = ["DeleteObjects"],
    };

    /// <summary>Which store methods each principal's policy serves (BoxStorage, the repositories, the controller, people's verbs).</summary>
    public static TheoryData<string, string[]> PolicyComponents() => new()
    {
        // The agent: its repositories (everything but creating one: init-policy.json), its status and records.
        { "box-policy.json", [nameof(IObjectStore.PutAsync), nameof(IObjectStore.PutIfAsync), nameof(IObjectStore.GetAsync), nameof(IObjectStore.GetRangeAsync), nameof(IObjectStore.ReadRangeAsync), nameof(IObjectStore.GetSizeAsync), nameof(IObjectStore.GetVersionedAsync), nameof(IObjectStore.ListAsync), nameof(IObjectStore.DeleteAsync)] },
        { "backup-repository-policy.json", [nameof(IObjectStore.PutAsync), nameof(IObjectStore.PutIfAsync), nameof(IObjectStore.GetAsync), nameof(IObjectStore.GetRangeAsync), nameof(IObjectStore.ReadRangeAsync), nameof(IObjectStore.GetSizeAsync), nameof(IObjectStore.GetVersionedAsync), nameof(IObjectStore.ListAsync), nameof(IObjectStore.DeleteAsync)] },
        // BoxStorage as the controller and up/down/keepalive/status/ssh use it: documents read, written, listed; never deleted.
        { "controller-policy.json", [nameof(IObjectStore.PutAsync), nameof(IObjectStore.PutIfAsync), nameof(IObjectStore.GetAsync), nameof(IObjectStore.GetSizeAsync), nameof(IObjectStore.GetVersionedAsync), nameof(IObjectStore.ListAsync)] },
        { "people-policy.json", [nameof(IObjectStore.PutAsync), nameof(IObjectStore.PutIfAsync), nameof(IObjectStore.GetAsync), nameof(IObjectStore.GetSizeAsync), nameof(IObjectStore.GetVersionedAsync), nameof(IObjectStore.ListAsync)] },
        // init: creating a repository and reading the bucket's versioning (a warning when it is off)
        { "init-policy.json", [nameof(IObjectStore.InitializeAsync), nameof(IObjectHistory.GetVersioningAsync)] },
        // an operator: budget overrides (up --over-budget), storage migrate (list, read, copy, delete), recover
        { "operator-policy.json", [nameof(IObjectStore.PutAsync), nameof(IObjectStore.GetAsync), nameof(IObjectStore.ListAsync), nameof(IObjectStore.DeleteAsync), nameof(IObjectHistory.GetVersioningAsync), nameof(IObjectHistory.ListVersionsAsync), nameof(IObjectHistory.RestoreVersionAsync)] },
    };

    [Fact]
    public async Task EveryStoreMethod_CallsExactlyTheSdkOperationsOfTheTable()
    {
        var bucket = peer.NewBucketName();
        await peer.CreateBucketAsync(bucket);
        var (recorder, calls) = RecordingS3.Wrap(peer.CreateClient());
        using var store = new S3ObjectStore(recorder, RepositoryLocation.Parse($"s3://{bucket}/boxes/alice/alice-dev"), kmsKeyId: null, peer.Endpoint);
        var ct = CancellationToken.None;
        var seen = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);

        async Task Run(string method, Func<Task> call)
        {
            calls.Clear();
            await call();
            seen[method] = [.. calls];
        }

        await Run(nameof(IObjectStore.InitializeAsync), () => store.InitializeAsync(ct));
        await Run(nameof(IObjectStore.PutAsync), () => store.PutAsync("status.json", "{}"u8.ToArray(), ct));
        await Run(nameof(IObjectStore.PutIfAsync), () => store.PutIfAsync("launch.json", "{}"u8.ToArray(), null, ct));
        await Run(nameof(IObjectStore.GetRangeAsync), () => store.GetRangeAsync("status.json", 0, 1, ct));
        await Run(nameof(IObjectStore.ReadRangeAsync), () => store.ReadRangeAsync("status.json", 0, new byte[1], ct));
        await Run(nameof(IObjectStore.ListAsync), async () => await store.ListAsync("", ct).CountAsync(ct));
        await Run(nameof(IObjectStore.DeleteAsync), () => store.DeleteAsync(["status.json"], ct));
        // The reads of something missing: the peer answers 404, so the 403 path is driven through the stub below.
        await Run(nameof(IObjectStore.GetAsync), () => store.GetAsync("launch.json", ct));
        await Run(nameof(IObjectStore.GetSizeAsync), () => store.GetSizeAsync("launch.json", ct));
        await Run(nameof(IObjectStore.GetVersionedAsync), () => store.GetVersionedAsync("launch.json", ct));
        await using (var server = new StubS3Server(StubBehavior.DeniedReadOfAnUnlistedKey))
        {
            var (stubRecorder, stubCalls) = RecordingS3.Wrap(new AmazonS3Client(S3PeerFixture.Credentials, new AmazonS3Config { ServiceURL = server.Endpoint, ForcePathStyle = true, AuthenticationRegion = S3PeerFixture.Region }));
            using var denied = new S3ObjectStore(stubRecorder, RepositoryLocation.Parse("s3://bucket/boxes/alice/alice-dev"), kmsKeyId: null, server.Endpoint);
            foreach (var (method, call) in new (string, Func<Task>)[]
            {
                (nameof(IObjectStore.GetAsync), () => Assert.ThrowsAsync<StorageException>(() => denied.GetAsync("control.json", ct))),
                (nameof(IObjectStore.GetSizeAsync), () => denied.GetSizeAsync("control.json", ct)),
                (nameof(IObjectStore.GetVersionedAsync), () => denied.GetVersionedAsync("control.json", ct)),
            })
            {
                stubCalls.Clear();
                await call();
                seen[method].UnionWith(stubCalls);
            }
        }

        var interfaceMethods = typeof(IObjectStore).GetMethods().Concat(typeof(IObjectHistory).GetMethods()).Where(m => !m.IsSpecialName).Select(m => m.Name).Order(StringComparer.Ordinal);
        Assert.Equal(interfaceMethods, StoreMethodOperations.Keys.Order(StringComparer.Ordinal));
        var storeMethods = typeof(IObjectStore).GetMethods().Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        Assert.All(StoreMethodOperations.Where(e => storeMethods.Contains(e.Key)), e => Assert.Equal(e.Value.Order(StringComparer.Ordinal), seen[e.Key].Order(StringComparer.Ordinal)));
        Assert.Equal(SdkOperationActions.Keys.Order(StringComparer.Ordinal), StoreMethodOperations.Values.SelectMany(v => v).Distinct().Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(PolicyComponents))]
    public void Policy_S3Actions_AreExactlyWhatItsComponentsStoreCallsNeed(string file, string[] storeMethods)
    {
        var needed = storeMethods.SelectMany(m => StoreMethodOperations[m]).SelectMany(o => SdkOperationActions[o].Split(' ')).Distinct().Order(StringComparer.Ordinal);

        var allowed = Allowed(file).Where(a => a.StartsWith("s3:", StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal);

        Assert.Equal(needed, allowed);
    }

    [Fact]
    public async Task SsmSecretParameters_CallsOnlyGetParameter_TheOneSsmActionOfTheBoxPolicy()
    {
        var targets = new ConcurrentQueue<string>();
        var (app, url) = await LoopbackHttpServer.StartAsync(async context =>
        {
            targets.Enqueue(context.Request.Headers["X-Amz-Target"].ToString());
            context.Response.ContentType = "application/x-amz-json-1.1";
            await context.Response.WriteAsync("""{"Parameter":{"Name":"/spotdevbox/alice-dev/webhook","Type":"SecureString","Value":"x","Version":1}}""");
        }, CancellationToken.None);
        await using (app)
        {
            using var parameters = new SsmSecretParameters(
                name => name == "AWS_ENDPOINT_URL_SSM" ? url.ToString() : null, _ => RegionEndpoint.GetBySystemName(S3PeerFixture.Region), S3PeerFixture.Credentials);

            await parameters.ReadAsync("/spotdevbox/alice-dev/webhook", CancellationToken.None);
        }

        var actions = targets.Select(t => "ssm:" + t[(t.IndexOf('.', StringComparison.Ordinal) + 1)..]).Distinct().ToList();
        Assert.Equal(["ssm:GetParameter"], actions);
        Assert.Equal(actions, Allowed("box-policy.json").Where(a => a.StartsWith("ssm:", StringComparison.Ordinal)).Distinct());
        Assert.All(new[] { "controller-policy.json", "operator-policy.json" },
            f => Assert.DoesNotContain(Allowed(f), a => a.StartsWith("ssm:", StringComparison.Ordinal)));
        // People call no SSM API themselves: their ssh-config's ProxyCommand runs 'aws ssm start-session' (SshVia ssm),
        // which starts, ends and resumes the session; nothing else.
        Assert.Equal(
            ["ssm:ResumeSession", "ssm:StartSession", "ssm:TerminateSession"],
            Allowed("people-policy.json").Where(a => a.StartsWith("ssm:", StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal));
    }

    internal static IEnumerable<string> Allowed(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(S3PeerFixture.RepositoryRoot, "deploy", "iam", file)));
        return [.. document.RootElement.GetProperty("Statement").EnumerateArray()
            .Where(s => s.GetProperty("Effect").GetString() == "Allow")
            .SelectMany(s => s.GetProperty("Action") is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray().Select(v => v.GetString()!) : [s.GetProperty("Action").GetString()!])];
    }

    /// <summary>An <see cref="IAmazonS3"/> that forwards to a real client and records the operation of each *Async call.</summary>
    public class RecordingS3 : DispatchProxy
    {
        private IAmazonS3 _inner = null!;

        public ConcurrentQueue<string> Calls { get; } = new();

        public static (IAmazonS3 Client, ConcurrentQueue<string> Calls) Wrap(IAmazonS3 inner)
        {
            var proxy = Create<IAmazonS3, RecordingS3>();
            var recorder = (RecordingS3)(object)proxy;
            recorder._inner = inner;
            return (proxy, recorder.Calls);
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name.EndsWith("Async", StringComparison.Ordinal))
            {
                Calls.Enqueue(targetMethod.Name[..^"Async".Length]);
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
        }
    }
}
