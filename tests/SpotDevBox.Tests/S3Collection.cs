using TestSupport;

namespace SpotDevBox.Tests;

/// <summary>One S3 peer for every test class of this assembly that joins the "s3" collection.</summary>
[CollectionDefinition("s3")]
public sealed class S3Collection : ICollectionFixture<S3PeerFixture>;

/// <summary>
/// An S3 peer of its own for the controller's process tests and a few CLI classes, and another for the crash tests
/// and a few more: the "s3" classes ran one after another for about 13 minutes, the longest path of the run. Each class
/// takes buckets of its own (NewBucketName), so the groups only need peers of their own to run beside each other.
/// </summary>
[CollectionDefinition("s3-controller")]
public sealed class S3ControllerCollection : ICollectionFixture<S3PeerFixture>;

/// <summary>An S3 peer of its own for the controller cluster's failover tests (two controllers each, mostly waiting).</summary>
[CollectionDefinition("s3-cluster")]
public sealed class S3ClusterCollection : ICollectionFixture<S3PeerFixture>;

/// <summary>An S3 peer of its own for the crash tests (two tests, nearly three minutes) and a few CLI classes.</summary>
[CollectionDefinition("s3-crash")]
public sealed class S3CrashCollection : ICollectionFixture<S3PeerFixture>;

/// <summary>One moto (tests/peers/moto) for the test classes that need an independent S3 with conditional writes and EC2.</summary>
[CollectionDefinition("moto")]
public sealed class MotoCollection : ICollectionFixture<MotoFixture>;

/// <summary>
/// A moto of its own for setup (end to end through the AWS CLI, 10-80 s a test): in a collection of its own, these run
/// beside the other moto tests instead of after them.
/// </summary>
[CollectionDefinition("moto-setup")]
public sealed class MotoSetupCollection : ICollectionFixture<MotoFixture>;

/// <summary>
/// A moto of its own for box add/remove (three tests, three to four minutes), which resets its moto as setup's tests do:
/// with a moto each, the two classes run beside each other instead of one after the other.
/// </summary>
[CollectionDefinition("moto-boxes")]
public sealed class MotoBoxesCollection : ICollectionFixture<MotoFixture>;

/// <summary>A moto of its own for the CloudFormation templates and stacks (deployed through the AWS CLI).</summary>
[CollectionDefinition("moto-stacks")]
public sealed class MotoStacksCollection : ICollectionFixture<MotoFixture>;
