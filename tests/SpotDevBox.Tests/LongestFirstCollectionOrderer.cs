using Xunit.Abstractions;

[assembly: TestCollectionOrderer("SpotDevBox.Tests.LongestFirstCollectionOrderer", "SpotDevBox.Tests")]

namespace SpotDevBox.Tests;

/// <summary>
/// Starts the collections that take longest first (the release build's, which builds for minutes before its first
/// test, and the serial S3 and moto groups), the rest after them in the order xunit found them. With four collections
/// at a time, one of several minutes started late in the run was the whole run's tail (the last run: the S3 group
/// from 2 minutes in, setup's from 5). Only the order changes: which tests run, and with what, stays the same.
/// </summary>
public sealed class LongestFirstCollectionOrderer : ITestCollectionOrderer
{
    /// <summary>Longest first, by their times in docs/benchmarks.md, "Test suite time".</summary>
    private static readonly string[] Longest =
    [
        "release build",
        "moto-setup",
        "s3",
        "s3-controller",
        "s3-crash",
        "moto-boxes",
        "moto-stacks",
        "Test collection for SpotDevBox.Tests.Cli.HelpExamplesTests",
        "moto",
        "Test collection for SpotDevBox.Tests.Cli.WrongInputTests",
        "Test collection for SpotDevBox.Tests.Cli.KeyCommandTests",
    ];

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(c => Array.IndexOf(Longest, c.DisplayName) is var i and >= 0 ? i : Longest.Length);
}
