using Xunit;
using Xunit.Abstractions;

[assembly: TestCollectionOrderer("SpotDevBox.Tests.LongestFirstCollectionOrderer", "SpotDevBox.Tests")]

namespace SpotDevBox.Tests;

/// <summary>
/// The order in which xunit hands the test collections to its four threads: the longest first (measured from a trx of
/// a whole run, docs/benchmarks.md "Test suite time"), so that none of them starts late and ends the run; then every
/// other collection in name order; the release build's last, since scripts/test builds it while the others run and its
/// tests then take seconds. A name not listed here only runs in name order: no test depends on this order.
/// </summary>
public sealed class LongestFirstCollectionOrderer : ITestCollectionOrderer
{
    /// <summary>Longest first: their summed test time in a whole run, 240 s down to 75 s.</summary>
    internal static readonly string[] Longest = ["moto-setup", "s3-controller", "s3", "moto-stacks", "moto-boxes", "s3-crash", "moto", "s3-cluster"];

    internal const string Last = "release build";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections
            .OrderBy(c => Rank(c.DisplayName))
            .ThenBy(c => c.DisplayName, StringComparer.Ordinal);

    internal static int Rank(string name) =>
        name == Last ? int.MaxValue : Array.IndexOf(Longest, name) is var i and >= 0 ? i : Longest.Length;
}
