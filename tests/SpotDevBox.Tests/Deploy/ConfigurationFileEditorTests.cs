using System.Text.Json.Nodes;
using SpotDevBox.Deploy;
using SpotDevBox.Hosting;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

public sealed class ConfigurationFileEditorTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-editor-");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Load_MissingFile_IsAnEmptyObjectThatDoesNotExist()
    {
        var editor = ConfigurationFileEditor.Load(_temp.Sub("none.json"));

        Assert.False(editor.Exists);
        Assert.Empty(editor.Root);
        Assert.Null(editor.Get("Controller"));
    }

    [Fact]
    public void Load_CommentsAndTrailingCommas_ReadAsTheConfigurationReadsThem()
    {
        var file = Write("a.json", "// my boxes\n{\n  \"Controller\": { /* the bucket */ \"AgentBuilds\": \"s3://b/agent\", },\n}\n");

        var editor = ConfigurationFileEditor.Load(file);

        Assert.Equal("s3://b/agent", (string?)editor.Get("controller", "agentbuilds"));
    }

    [Fact]
    public void Load_NotJson_InvalidConfigurationNamingTheFileAndLineNotTheText()
    {
        var file = Write("a.json", "{\n  \"Controller\": { \"AgentBuilds\": \"hunter2\" \"Database\": \"\" }\n}\n");

        var e = Assert.Throws<InvalidConfigurationException>(() => ConfigurationFileEditor.Load(file));

        Assert.Contains(file, e.Message, StringComparison.Ordinal);
        Assert.Contains("line 2", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ANameTwiceInANestedObject_InvalidConfigurationNamingTheFile()
    {
        var file = Write("a.json", "{ \"Controller\": { \"Boxes\": { \"alice\": {}, \"alice\": {} } } }");

        var e = Assert.Throws<InvalidConfigurationException>(() => ConfigurationFileEditor.Load(file));

        Assert.Equal($"the configuration file {file} names one setting twice in an object: keep one and run again", e.Message);
    }

    [Fact]
    public void Load_AnArray_InvalidConfiguration()
    {
        var file = Write("a.json", "[1, 2]");

        var e = Assert.Throws<InvalidConfigurationException>(() => ConfigurationFileEditor.Load(file));

        Assert.Contains("JSON object", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Set_PathThroughExistingKeysOfOtherCase_KeepsTheirSpellingAndMakesTheRest()
    {
        var file = Write("a.json", "{ \"controller\": { \"AgentBuilds\": \"s3://b/agent\" } }");
        var editor = ConfigurationFileEditor.Load(file);

        editor.Set(["Controller", "Boxes", "alice"], new JsonObject { ["Owner"] = "alice" });

        Assert.Equal("{\"controller\":{\"AgentBuilds\":\"s3://b/agent\",\"Boxes\":{\"alice\":{\"Owner\":\"alice\"}}}}", editor.Root.ToJsonString());
        Assert.True(editor.Changed);
    }

    [Fact]
    public void Remove_ExistingAndMissingPaths_TrueThenFalse()
    {
        var editor = ConfigurationFileEditor.Load(Write("a.json", "{ \"Controller\": { \"Boxes\": { \"alice\": {}, \"bob\": {} } } }"));

        Assert.True(editor.Remove(["Controller", "Boxes", "alice"]));
        Assert.False(editor.Remove(["Controller", "Boxes", "alice"]));
        Assert.False(editor.Remove(["Nothing", "Here"]));
        Assert.Equal("{\"Controller\":{\"Boxes\":{\"bob\":{}}}}", editor.Root.ToJsonString());
    }

    [Fact]
    public void Save_Unchanged_WritesNothing()
    {
        var file = Write("a.json", "{ \"Controller\": {} }");
        var editor = ConfigurationFileEditor.Load(file);
        using var notices = new StringWriter();

        Assert.False(editor.Save(notices));

        Assert.Equal("{ \"Controller\": {} }", File.ReadAllText(file));
        Assert.Empty(notices.ToString());
    }

    [Fact]
    public void Save_NewFileInNewFolder_IndentedJsonFolder0700File0600NoTemporaryLeft()
    {
        var folder = _temp.Sub("config/spotdevbox");
        var file = Path.Combine(folder, "spotdevbox.json");
        var editor = ConfigurationFileEditor.Load(file);
        editor.Set(["Controller", "Fleet", "Region"], JsonValue.Create("eu-central-1"));
        using var notices = new StringWriter();

        Assert.True(editor.Save(notices));

        Assert.Equal("{\n  \"Controller\": {\n    \"Fleet\": {\n      \"Region\": \"eu-central-1\"\n    }\n  }\n}\n", File.ReadAllText(file).ReplaceLineEndings("\n"));
        Assert.Equal([file], Directory.GetFiles(folder));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public void Save_ExistingFile_KeepsItsMode()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var file = Write("a.json", "{}");
        var shared = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(file, shared);
        var editor = ConfigurationFileEditor.Load(file);
        editor.Set(["Controller", "Database"], JsonValue.Create("x.db"));

        Assert.True(editor.Save(TextWriter.Null));

        Assert.Equal(shared, File.GetUnixFileMode(file));
        Assert.Equal("x.db", (string?)JsonNode.Parse(File.ReadAllText(file))!["Controller"]!["Database"]);
    }

    [Fact]
    public void Save_FileWithComments_KeepsTheOriginalAsBakAndSaysSoOnlyTheFirstTime()
    {
        const string original = "{\n  // alice's box\n  \"Controller\": {}\n}\n";
        var file = Write("a.json", original);
        var editor = ConfigurationFileEditor.Load(file);
        editor.Set(["Controller", "Database"], JsonValue.Create("x.db"));
        using var first = new StringWriter();

        editor.Save(first);

        Assert.Equal(original, File.ReadAllText(file + ".bak"));
        Assert.Contains(file + ".bak", first.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("//", File.ReadAllText(file), StringComparison.Ordinal);

        var again = ConfigurationFileEditor.Load(file);
        again.Set(["Controller", "Database"], JsonValue.Create("y.db"));
        using var second = new StringWriter();
        again.Save(second);

        Assert.Empty(second.ToString());
        Assert.Equal(original, File.ReadAllText(file + ".bak"));
    }

    [Fact]
    public void WritableFile_ExplicitConfig_IsThatFileFullPath()
    {
        Assert.Equal(Path.GetFullPath(_temp.Sub("mine.json")), ConfigurationFiles.WritableFile(_temp.Sub("mine.json")));
    }

    private string Write(string name, string text)
    {
        var file = _temp.Sub(name);
        File.WriteAllText(file, text);
        return file;
    }
}
