using SpotDevBox.Controller;

namespace SpotDevBox.Tests.Controller;

public sealed class ControllerBoxDocumentsTests
{
    [Theory]
    // The S3 layout: s3://BUCKET/ROOT/<owner>/<box>, ROOT of one or more segments.
    [InlineData("s3://team-bucket/boxes/alice/dev", "alice", "dev", "s3://team-bucket/boxes")]
    [InlineData("s3://team-bucket/spotdevbox/boxes/alice/dev/", "alice", "dev", "s3://team-bucket/spotdevbox/boxes")]
    // A storage of two segments or fewer has the bucket as ROOT.
    [InlineData("s3://team-bucket/boxes/dev", "alice", "dev", "s3://team-bucket")]
    [InlineData("s3://team-bucket/dev", "alice", "dev", "s3://team-bucket")]
    [InlineData("/srv/spotdevbox/boxes/alice/dev", "alice", "dev", "/srv/spotdevbox/boxes")]
    public void OperatorDocument_BoxStorage_RootIsTheStorageWithoutItsLastTwoSegments(string storage, string owner, string box, string root)
    {
        var (actualRoot, key) = ControllerBoxDocuments.OperatorDocument(storage, owner, box);

        Assert.Equal((root, $"_operator/budget-overrides/{owner}/{box}.json"), (actualRoot, key));
    }
}
