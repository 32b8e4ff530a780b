using TestSupport;

namespace SpotDevBox.Aws.Tests;

/// <summary>One S3 peer for every test class of this assembly; xunit 2 reads collection definitions only from the test assembly.</summary>
[CollectionDefinition("s3")]
public sealed class S3Collection : ICollectionFixture<S3PeerFixture>;

/// <summary>One moto (tests/peers/moto) for the test classes that need what fauxqs ignores: S3 conditional writes.</summary>
[CollectionDefinition("moto")]
public sealed class MotoCollection : ICollectionFixture<MotoFixture>;
