using SpotDevBox.Backup.Selection;

namespace SpotDevBox.Backup.Tests.Selection;

public class ExcludeMatcherTests
{
    [Theory]
    [InlineData("node_modules", true, true)]
    [InlineData("web/app/node_modules", true, true)]
    [InlineData("node_modules/left-pad/index.js", false, true)]
    [InlineData("web/node_modules/.bin", true, true)]
    [InlineData("node_modules", false, false)]
    [InlineData("docs/node_modules", false, false)]
    [InlineData("node_modules2", true, false)]
    public void IsExcluded_TrailingSlashName_MatchesDirectoriesAtAnyDepthOnly(string path, bool isDirectory, bool expected)
    {
        var matcher = new ExcludeMatcher(["node_modules/"]);

        Assert.Equal(expected, matcher.IsExcluded(path, isDirectory));
    }

    [Theory]
    [InlineData("main.o", false, true)]
    [InlineData("src/lib/util.o", false, true)]
    [InlineData("objects.o", true, true)]
    [InlineData("objects.o/readme.txt", false, true)]
    [InlineData("main.o.txt", false, false)]
    [InlineData("main.O", false, false)]
    [InlineData("o", false, false)]
    public void IsExcluded_StarExtension_MatchesNamesAtAnyDepth(string path, bool isDirectory, bool expected)
    {
        var matcher = new ExcludeMatcher(["*.o"]);

        Assert.Equal(expected, matcher.IsExcluded(path, isDirectory));
    }

    [Theory]
    [InlineData("build", true, true)]
    [InlineData("build", false, true)]
    [InlineData("build/out/app.dll", false, true)]
    [InlineData("src/build", true, false)]
    [InlineData("src/build/out.txt", false, false)]
    [InlineData("buildx/build", true, false)]
    [InlineData("build2", true, false)]
    public void IsExcluded_LeadingSlash_IsAnchoredAtTheRoot(string path, bool isDirectory, bool expected)
    {
        // "buildx/build" is the MAB.DotIgnore 3.0.1 case: its prefix check lets "/build" match there.
        var matcher = new ExcludeMatcher(["/build"]);

        Assert.Equal(expected, matcher.IsExcluded(path, isDirectory));
    }

    [Theory]
    [InlineData("src/App/bin", true, true)]
    [InlineData("src/App/obj", true, true)]
    [InlineData("src/App/obj/Debug/net10.0/App.dll", false, true)]
    [InlineData("bin", true, true)]
    [InlineData("bin", false, false)]
    [InlineData("src/binary", true, false)]
    [InlineData("src/App/Program.cs", false, false)]
    public void IsExcluded_BinAndObj_ExcludesBuildOutputDirectories(string path, bool isDirectory, bool expected)
    {
        var matcher = new ExcludeMatcher(["bin/", "obj/"]);

        Assert.Equal(expected, matcher.IsExcluded(path, isDirectory));
    }

    [Theory]
    [InlineData("target", true, true)]
    [InlineData("crates/core/target", true, true)]
    [InlineData("crates/core/target/debug/core", false, true)]
    [InlineData("target", false, true)]
    [InlineData("crates/targets", true, false)]
    [InlineData("crates/my-target", true, false)]
    public void IsExcluded_LeadingDoubleStar_MatchesAtAnyDepth(string path, bool isDirectory, bool expected)
    {
        var matcher = new ExcludeMatcher(["**/target"]);

        Assert.Equal(expected, matcher.IsExcluded(path, isDirectory));
    }

    [Theory]
    [InlineData("keep.o", false)]
    [InlineData("src/keep.o", false)]
    [InlineData("main.o", true)]
    [InlineData("src/main.o", true)]
    public void IsExcluded_NegationAfterExclusion_ReincludesTheName(string path, bool expected)
    {
        var matcher = new ExcludeMatcher(["*.o", "!keep.o"]);

        Assert.Equal(expected, matcher.IsExcluded(path, isDirectory: false));
    }

    [Fact]
    public void IsExcluded_NegationBeforeExclusion_LaterPatternWins()
    {
        var matcher = new ExcludeMatcher(["!keep.o", "*.o"]);

        Assert.True(matcher.IsExcluded("keep.o", isDirectory: false));
    }

    [Fact]
    public void IsExcluded_NegationInsideExcludedDirectory_CannotReinclude()
    {
        var matcher = new ExcludeMatcher(["build/", "!build/keep.txt"]);

        Assert.True(matcher.IsExcluded("build/keep.txt", isDirectory: false));
    }

    [Fact]
    public void IsExcluded_NegatedDirectoryName_DoesNotReincludeExcludedFilesInside()
    {
        // MAB.DotIgnore 3.0.1 tests a slash-less pattern against every segment, so "!src" would
        // re-include "src/main.c"; git applies it to the name "src" only.
        var matcher = new ExcludeMatcher(["*.c", "!src"]);

        Assert.True(matcher.IsExcluded("src/main.c", isDirectory: false));
        Assert.False(matcher.IsExcluded("src", isDirectory: true));
    }

    [Theory]
    [InlineData("docs/draft.tmp", true)]
    [InlineData("docs/api/v1/draft.tmp", true)]
    [InlineData("docs/scratch.tmp/notes.md", true)]
    [InlineData("src/docs/draft.tmp", false)]
    [InlineData("docs/draft.tmpl", false)]
    [InlineData("draft.tmp", false)]
    public void IsExcluded_MiddleDoubleStar_MatchesAnyDepthUnderTheAnchoredDirectory(string path, bool expected)
    {
        var matcher = new ExcludeMatcher(["docs/**/*.tmp"]);

        Assert.Equal(expected, matcher.IsExcluded(path, isDirectory: false));
    }

    [Fact]
    public void IsExcluded_DirectoryUnderExcludedAncestor_IsExcluded()
    {
        // MAB.DotIgnore 3.0.1 checks ancestors for files only.
        var matcher = new ExcludeMatcher(["docs/*.tmp"]);

        Assert.True(matcher.IsExcluded("docs/x.tmp/inner", isDirectory: true));
    }

    [Fact]
    public void IsExcluded_SlashInTheMiddle_IsAnchoredAtTheRoot()
    {
        var matcher = new ExcludeMatcher(["src/generated"]);

        Assert.True(matcher.IsExcluded("src/generated", isDirectory: true));
        Assert.False(matcher.IsExcluded("lib/src/generated", isDirectory: true));
    }

    [Fact]
    public void IsExcluded_QuestionMarkAndClass_MatchOneCharacter()
    {
        var matcher = new ExcludeMatcher(["log?.txt", "core.[0-9]", "tmp[!a-z]"]);

        Assert.True(matcher.IsExcluded("log1.txt", isDirectory: false));
        Assert.False(matcher.IsExcluded("log12.txt", isDirectory: false));
        Assert.True(matcher.IsExcluded("var/core.7", isDirectory: false));
        Assert.False(matcher.IsExcluded("core.x", isDirectory: false));
        Assert.True(matcher.IsExcluded("tmp9", isDirectory: false));
        Assert.False(matcher.IsExcluded("tmpx", isDirectory: false));
    }

    [Fact]
    public void IsExcluded_CommentLine_IsIgnoredAndEscapedHashIsLiteral()
    {
        var matcher = new ExcludeMatcher(["# build output", "\\#notes#"]);

        Assert.False(matcher.IsExcluded("# build output", isDirectory: false));
        Assert.True(matcher.IsExcluded("#notes#", isDirectory: false));
    }

    [Fact]
    public void IsExcluded_TrailingSpaces_AreIgnoredUnlessEscaped()
    {
        var matcher = new ExcludeMatcher(["secret.txt   ", "space\\ "]);

        Assert.True(matcher.IsExcluded("secret.txt", isDirectory: false));
        Assert.True(matcher.IsExcluded("space ", isDirectory: false));
        Assert.False(matcher.IsExcluded("space", isDirectory: false));
    }

    [Fact]
    public void IsExcluded_RegexCharactersInPattern_AreLiteral()
    {
        var matcher = new ExcludeMatcher(["a^b(1)+$.txt", "*.{js,ts}", "\\*.txt"]);

        Assert.True(matcher.IsExcluded("a^b(1)+$.txt", isDirectory: false));
        Assert.True(matcher.IsExcluded("x.{js,ts}", isDirectory: false));
        Assert.False(matcher.IsExcluded("x.js", isDirectory: false));
        Assert.True(matcher.IsExcluded("*.txt", isDirectory: false));
        Assert.False(matcher.IsExcluded("a.txt", isDirectory: false));
    }

    [Fact]
    public void IsExcluded_EscapedPunctuation_MatchesThePunctuation()
    {
        var matcher = new ExcludeMatcher(["\\.env"]);

        Assert.True(matcher.IsExcluded(".env", isDirectory: false));
        Assert.False(matcher.IsExcluded("xenv", isDirectory: false));
    }

    [Fact]
    public void IsExcluded_NoPatterns_ExcludesNothing()
    {
        var matcher = new ExcludeMatcher([]);

        Assert.True(matcher.IsEmpty);
        Assert.False(matcher.IsExcluded("node_modules", isDirectory: true));
    }

    [Fact]
    public void IsExcluded_Root_IsNeverExcluded()
    {
        var matcher = new ExcludeMatcher(["**"]);

        Assert.False(matcher.IsExcluded("", isDirectory: true));
        Assert.True(matcher.IsExcluded("anything", isDirectory: false));
    }

    [Theory]
    [InlineData("/src")]
    [InlineData("src/")]
    public void IsExcluded_PathWithLeadingOrTrailingSlash_Throws(string path)
    {
        var matcher = new ExcludeMatcher(["*.o"]);

        Assert.Throws<ArgumentException>(() => matcher.IsExcluded(path, isDirectory: true));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("!")]
    [InlineData("/")]
    [InlineData("a**b")]
    [InlineData("***")]
    [InlineData("[abc")]
    [InlineData("foo\\")]
    [InlineData("important!.txt")]
    [InlineData("\\!important")]
    [InlineData("a//b")]
    [InlineData("./build")]
    [InlineData("../outside")]
    public void Constructor_InvalidPattern_ThrowsNamingThePattern(string pattern)
    {
        var e = Assert.Throws<ArgumentException>(() => new ExcludeMatcher(["*.o", pattern]));

        Assert.Contains($"'{pattern}'", e.Message, StringComparison.Ordinal);
    }
}
