using TestSupport;

namespace SpotDevBox.Backup.Tests;

/// <summary>One S3 peer for every test class of this assembly that joins the "s3" collection.</summary>
[CollectionDefinition("s3")]
public sealed class S3Collection : ICollectionFixture<S3PeerFixture>;

/// <summary>moto's S3 for the tests that need conditional writes honoured (fauxqs ignores If-None-Match).</summary>
[CollectionDefinition("moto")]
public sealed class MotoCollection : ICollectionFixture<MotoFixture>;
