using TestSupport;

namespace SpotDevBox.Tests.Docs;

/// <summary>
/// Every relative link of README.md and docs/*.md reaches a file of the repository and, with a #fragment, a heading
/// there; so moving a section between the README and docs/ cannot leave a link behind silently.
/// </summary>
public sealed class MarkdownLinkTests
{
    private static readonly string Root = S3PeerFixture.RepositoryRoot;

    public static TheoryData<string> Documents() => [.. DocumentFiles()];

    private static List<string> DocumentFiles() =>
        ["README.md", .. Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Select(d => "docs/" + Path.GetFileName(d)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Documents))]
    public void RelativeLinks_InTheRepositorysDocuments_EachReachAFileAndHeading(string file)
    {
        var links = new MarkdownLinks(
            path => File.Exists(Path.Combine(Root, path)) ? File.ReadAllText(Path.Combine(Root, path)) : null,
            path => Directory.Exists(Path.Combine(Root, path)));

        Assert.Empty(links.Broken(file));
    }

    [Fact]
    public void Documents_Always_IncludeTheReadmeAndTheMovedReference()
    {
        var files = DocumentFiles();

        Assert.Contains("README.md", files);
        Assert.Contains("docs/backup.md", files);
        Assert.Contains("docs/agent.md", files);
        Assert.Contains("docs/configuration.md", files);
    }

    [Theory]
    [InlineData("Estimating a box's cost", "estimating-a-boxs-cost")]
    [InlineData("Quick start: from an AWS account to `spotdevbox ssh alice`", "quick-start-from-an-aws-account-to-spotdevbox-ssh-alice")]
    [InlineData("Storage (`Controller:Boxes:<box>:Storage`) and one instance profile per box", "storage-controllerboxesboxstorage-and-one-instance-profile-per-box")]
    [InlineData("The controller (`systemd/spotdevbox-controller.service`)", "the-controller-systemdspotdevbox-controllerservice")]
    [InlineData("Logins: `Agent:Idle:Sessions`", "logins-agentidlesessions")]
    [InlineData("cloudformation/", "cloudformation")]
    [InlineData("Restore beneath its target (finding 5)", "restore-beneath-its-target-finding-5")]
    [InlineData("Results, 2026-11-28: the native AOT agent (`bench/agent-notice --aot`)", "results-2026-11-28-the-native-aot-agent-benchagent-notice---aot")]
    [InlineData("See [the format](repository-format.md) **now**", "see-the-format-now")]
    [InlineData("Über naïve_names", "über-naïve_names")]
    public void Slug_Heading_IsGitHubsAnchor(string heading, string expected)
    {
        Assert.Equal(expected, MarkdownLinks.Slug(heading));
    }

    [Fact]
    public void Anchors_RepeatedHeadingsAndHeadingsInCode_NumberedAndIgnored()
    {
        const string Markdown = "# Top\n## Results\n```sh\n# not a heading\n## Results\n```\n### Results\n<a id=\"custom\"></a>\n## Closed ##\n";

        var anchors = MarkdownLinks.Anchors(Markdown);

        Assert.Equal(["closed", "custom", "results", "results-1", "top"], anchors.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Broken_MissingFileMissingHeadingAndEscape_EachNamedWhileGoodLinksCodeAndUrlsPass()
    {
        var files = new Dictionary<string, string>
        {
            ["README.md"] = """
                # Top
                [ok](docs/a.md#part-one), [ok too](#top), [folder](docs), [image](docs/a.md "title"), [web](https://example.com/x.md#nothing)
                [gone](docs/missing.md) and [no such part](docs/a.md#part-two) and [out](../outside.md)
                `[in code](docs/nowhere.md)`

                ```md
                [in a fence](docs/nowhere.md)
                ```

                [ref]: docs/also-missing.md
                """,
            ["docs/a.md"] = "# A\n## Part one\nBack to [the top](../README.md#top).\n",
        };
        var links = new MarkdownLinks(files.GetValueOrDefault, path => path == "docs");

        Assert.Equal(
            [
                "README.md: (docs/missing.md) names docs/missing.md, which does not exist",
                "README.md: (docs/a.md#part-two) names #part-two, which is no heading of docs/a.md",
                "README.md: (../outside.md) leaves the repository",
                "README.md: (docs/also-missing.md) names docs/also-missing.md, which does not exist",
            ],
            links.Broken("README.md"));
        Assert.Empty(links.Broken("docs/a.md"));
    }
}
