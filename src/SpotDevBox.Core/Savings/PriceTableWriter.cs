using System.Globalization;

namespace SpotDevBox.Core.Savings;

/// <summary>
/// Writes refreshed tables in the shipped tables' format, with a header that names the offer's publication date
/// (first, so it is the date <see cref="PriceTableFile.ParseSource"/> finds) and where the offer came from.
/// </summary>
public static class PriceTableWriter
{
    public static void WriteOnDemand(TextWriter writer, OfferPrices offer, string offerLocation, DateTimeOffset writtenAt)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(offer);
        writer.Write($"# On-demand price, Linux, shared tenancy, USD per hour, region {offer.Region}.\n");
        WriteSource(writer, offer, offerLocation, writtenAt);
        writer.Write("instance_type,usd_per_hour\n");
        foreach (var (type, usd) in offer.Instances)
        {
            writer.Write($"{type},{Usd(usd)}\n");
        }
    }

    public static void WriteStorage(TextWriter writer, OfferPrices offer, string offerLocation, DateTimeOffset writtenAt)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(offer);
        writer.Write($"# Storage prices, region {offer.Region}, USD: EBS volumes and snapshots only (S3 is not in the EC2 offer).\n");
        WriteSource(writer, offer, offerLocation, writtenAt);
        writer.Write("item,unit,usd\n");
        foreach (var (item, usd) in offer.Storage)
        {
            writer.Write($"{item},{StorageItems.UnitOf(item)},{Usd(usd)}\n");
        }
    }

    /// <summary>A price as the offer wrote it, without trailing zeros: 0.1008000000 is written 0.1008.</summary>
    public static string Usd(decimal usd) => usd.ToString("0.############################", CultureInfo.InvariantCulture);

    private static void WriteSource(TextWriter writer, OfferPrices offer, string offerLocation, DateTimeOffset writtenAt)
    {
        writer.Write($"# Source: the AWS Price List bulk offer file, Publication Date {offer.PublicationDate ?? "not stated"}, version {offer.Version ?? "not stated"},\n");
        writer.Write($"# read from {offerLocation}\n");
        writer.Write(string.Create(CultureInfo.InvariantCulture, $"# by 'spotdevbox prices refresh' at {writtenAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}.\n"));
    }
}
