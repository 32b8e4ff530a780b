using TestSupport;

namespace SpotDevBox.Aws.Tests;

/// <summary>One S3 peer for every test class of this assembly; xunit 2 reads collection definitions only from the test assembly.</summary>
[CollectionDefinition("s3")]
public sealed class S3Collection : ICollectionFixture<S3PeerFixture>;
