using TestSupport;

namespace SpotDevBox.Tests;

/// <summary>One S3 peer for every test class of this assembly that joins the "s3" collection.</summary>
[CollectionDefinition("s3")]
public sealed class S3Collection : ICollectionFixture<S3PeerFixture>;

/// <summary>One moto (tests/peers/moto) for the test classes that need an independent S3 with conditional writes and EC2.</summary>
[CollectionDefinition("moto")]
public sealed class MotoCollection : ICollectionFixture<MotoFixture>;
