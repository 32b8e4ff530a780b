using SpotDevBox.Core.Savings;
using SpotDevBox.Savings;

namespace SpotDevBox.Tests.Savings;

public sealed class PriceFoldersTests
{
    private static string Folder(Environment.SpecialFolder folder) => folder switch
    {
        Environment.SpecialFolder.UserProfile => "/home/alice",
        Environment.SpecialFolder.LocalApplicationData => @"C:\Users\alice\AppData\Local",
        _ => throw new InvalidOperationException($"unexpected folder {folder}"),
    };

    private static Func<string, string?> Variables(string? xdgStateHome) => name => name == "XDG_STATE_HOME" ? xdgStateHome : null;

    [Fact]
    public void Resolve_Defaults_RefreshedUnderXdgStateShippedNextToTheExecutable()
    {
        var folders = PriceFolders.Resolve(new PriceOptions(), "/opt/spotdevbox", Variables("/var/state"), Folder, windows: false);

        Assert.Equal(new PriceTableFolder("/var/state/spotdevbox/prices", "/var/state/spotdevbox/prices"), folders.Refreshed);
        Assert.Equal(new PriceTableFolder("/opt/spotdevbox/config/prices", "config/prices"), folders.Shipped);
    }

    [Fact]
    public void Resolve_RelativeXdgStateHome_IgnoredForTheHomeDefault()
    {
        Assert.Equal("/home/alice/.local/state/spotdevbox/prices", PriceFolders.Resolve(new PriceOptions(), "/opt", Variables("state"), Folder, windows: false).Refreshed.Path);
    }

    [Fact]
    public void Resolve_DirectorySetting_Wins()
    {
        Assert.Equal("/srv/prices", PriceFolders.Resolve(new PriceOptions { Directory = "/srv/prices" }, "/opt", Variables("/var/state"), Folder, windows: false).Refreshed.Path);
    }
}
