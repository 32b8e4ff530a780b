using TestSupport;

namespace SpotDevBox.Tests;

/// <summary>One S3 peer for every test class of this assembly that joins the "s3" collection.</summary>
[CollectionDefinition("s3")]
public sealed class S3Collection : ICollectionFixture<S3PeerFixture>;

/// <summary>One moto (tests/peers/moto) for the test classes that need an independent S3 with conditional writes and EC2.</summary>
[CollectionDefinition("moto")]
public sealed class MotoCollection : ICollectionFixture<MotoFixture>;

/// <summary>
/// A moto of its own for setup and box add/remove (end to end through the AWS CLI, 10-25 s a test): in a collection of
/// its own, these run beside the other moto tests instead of after them.
/// </summary>
[CollectionDefinition("moto-setup")]
public sealed class MotoSetupCollection : ICollectionFixture<MotoFixture>;

/// <summary>A moto of its own for the CloudFormation templates and stacks (deployed through the AWS CLI).</summary>
[CollectionDefinition("moto-stacks")]
public sealed class MotoStacksCollection : ICollectionFixture<MotoFixture>;
