namespace SpotDevBox.Core.Savings;

/// <summary>How an unknown part is named when its <see cref="PriceQuote"/> does not say (each names the fix where there is one).</summary>
internal static class MissingPrices
{
    public static string OnDemand(string instanceType, string region) =>
        $"on-demand price for {instanceType} in {region} unknown: run spotdevbox prices refresh --region {region} or set Prices:OnDemand:{region}:{instanceType}";

    public static string Ebs(string region) =>
        $"EBS price per GB-month in {region} unknown: run spotdevbox prices refresh --region {region}";

    public static string S3(string box) =>
        $"S3 Standard price per GB-month for box {box}'s bucket unknown: run spotdevbox prices refresh";

    public static string RootVolume(string instanceId, string box) => $"root volume size of {instanceId} (box {box}) unknown";

    public static string RootVolumeOfBox(string box) => $"root volume size of box {box} unknown";

    public static string RepositoryBytes(string box) => $"stored size of box {box}'s repository unknown";

    /// <summary>A session whose end nobody knows any more: costed up to <paramref name="knownUntil"/>, the rest named here.</summary>
    public static string End(string instanceId, DateTimeOffset knownUntil, DateTimeOffset latestEnd) =>
        string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"end of {instanceId} unknown: it ran at least until {knownUntil.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC and had ended by {latestEnd.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC; the time between is not costed");
}
