using SpotDevBox.Core.Savings;

namespace SpotDevBox.Savings;

/// <summary>Where the price tables are: the shipped ones next to the executable, the refreshed ones in the state directory.</summary>
internal sealed record PriceFolders(PriceTableFolder Refreshed, PriceTableFolder Shipped)
{
    public static PriceFolders Resolve(PriceOptions options) =>
        Resolve(options, AppContext.BaseDirectory, Environment.GetEnvironmentVariable, Hosting.UserFolders.Path, OperatingSystem.IsWindows());

    internal static PriceFolders Resolve(
        PriceOptions options,
        string baseDirectory,
        Func<string, string?> variable,
        Func<Environment.SpecialFolder, string> folder,
        bool windows)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(variable);
        ArgumentNullException.ThrowIfNull(folder);
        string refreshed;
        if (!string.IsNullOrWhiteSpace(options.Directory))
        {
            refreshed = Path.GetFullPath(options.Directory.Trim());
        }
        else
        {
            refreshed = Path.Join(Hosting.StateDirectory.Of(variable, folder, windows), "prices");
        }

        return new PriceFolders(
            new PriceTableFolder(refreshed, refreshed),
            new PriceTableFolder(Path.Combine(baseDirectory, "config", "prices"), "config/prices"));
    }
}
