using SpotDevBox.Controller;

namespace SpotDevBox.Tests.Controller;

public sealed class ControllerStorePathTests
{
    private static string Folder(Environment.SpecialFolder folder) => folder switch
    {
        Environment.SpecialFolder.UserProfile => "/home/alice",
        Environment.SpecialFolder.LocalApplicationData => @"C:\Users\alice\AppData\Local",
        _ => throw new InvalidOperationException($"unexpected folder {folder}"),
    };

    private static Func<string, string?> Variables(string? xdgStateHome) =>
        name => name == "XDG_STATE_HOME" ? xdgStateHome : null;

    [Fact]
    public void Default_ConfigFileGiven_BesideIt()
    {
        var path = ControllerStorePath.Default("/etc/spotdevbox/controller.json", Variables("/var/state"), Folder, windows: false);

        Assert.Equal("/etc/spotdevbox/spotdevbox.db", path);
    }

    [Fact]
    public void Default_RelativeConfigFile_BesideItsFullPath()
    {
        var path = ControllerStorePath.Default(Path.Join("conf", "spotdevbox.json"), Variables(null), Folder, windows: false);

        Assert.Equal(Path.Join(Environment.CurrentDirectory, "conf", "spotdevbox.db"), path);
    }

    [Fact]
    public void Default_NoConfigFile_UnderXdgStateHome()
    {
        var path = ControllerStorePath.Default(null, Variables("/var/state"), Folder, windows: false);

        Assert.Equal("/var/state/spotdevbox/spotdevbox.db", path);
    }

    [Fact]
    public void Default_EmptyConfigNoXdg_UnderLocalState()
    {
        var path = ControllerStorePath.Default("", Variables(null), Folder, windows: false);

        Assert.Equal("/home/alice/.local/state/spotdevbox/spotdevbox.db", path);
    }

    [Fact]
    public void Default_RelativeXdgStateHome_Ignored()
    {
        var path = ControllerStorePath.Default(null, Variables("state"), Folder, windows: false);

        Assert.Equal("/home/alice/.local/state/spotdevbox/spotdevbox.db", path);
    }

    [Fact]
    public void Default_WindowsNoXdg_UnderLocalApplicationData()
    {
        var path = ControllerStorePath.Default(null, Variables(null), Folder, windows: true);

        Assert.Equal(Path.Join(@"C:\Users\alice\AppData\Local", "spotdevbox", "spotdevbox.db"), path);
    }

    [Fact]
    public void Default_RealEnvironmentWithConfigFile_BesideIt()
    {
        var config = Path.Join(Path.GetTempPath(), "spotdevbox-config", "spotdevbox.json");

        Assert.Equal(Path.Join(Path.GetTempPath(), "spotdevbox-config", "spotdevbox.db"), ControllerStorePath.Default(config));
    }
}
