using System.Numerics;

namespace SpotDevBox.Backup.Chunking;

/// <summary>
/// Size limits of content-defined chunks. These are part of the repository format: the same bytes only
/// deduplicate against an earlier snapshot when they are cut with the same parameters, so a repository
/// records them once and every backup into it must use them.
/// </summary>
internal sealed record ChunkerParameters
{
    /// <summary>Below this the gear hash has too few bytes behind a cut to be content-defined.</summary>
    public const int SmallestMinSize = 64;

    /// <summary>
    /// The chunker keeps up to twice <see cref="MaxSize"/> in one array, so this keeps that array well under
    /// the 2 GiB array limit and the memory of a few parallel chunkers reasonable.
    /// </summary>
    public const int LargestMaxSize = 256 * 1024 * 1024;

    /// <summary>The sizes SpotDevBox uses: 256 KiB / 1 MiB / 4 MiB.</summary>
    public static ChunkerParameters Default { get; } = new(256 * 1024, 1024 * 1024, 4 * 1024 * 1024);

    public ChunkerParameters(int minSize, int averageSize, int maxSize)
    {
        if (minSize < SmallestMinSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minSize), minSize, $"MinSize must be at least {SmallestMinSize} bytes, got {minSize}");
        }

        if (averageSize <= minSize)
        {
            throw new ArgumentOutOfRangeException(nameof(averageSize), averageSize, $"AverageSize must be greater than MinSize ({minSize}), got {averageSize}");
        }

        // The cut masks have log2(average) bits set, so only a power of two gives the stated average.
        if (!BitOperations.IsPow2(averageSize))
        {
            throw new ArgumentOutOfRangeException(nameof(averageSize), averageSize, $"AverageSize must be a power of two, got {averageSize}");
        }

        if (maxSize <= averageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, $"MaxSize must be greater than AverageSize ({averageSize}), got {maxSize}");
        }

        if (maxSize > LargestMaxSize)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, $"MaxSize must be at most {LargestMaxSize} bytes, got {maxSize}");
        }

        MinSize = minSize;
        AverageSize = averageSize;
        MaxSize = maxSize;
    }

    /// <summary>Smallest chunk, except for the last chunk of a stream, which may be shorter.</summary>
    public int MinSize { get; }

    /// <summary>Target chunk size; a power of two.</summary>
    public int AverageSize { get; }

    /// <summary>Largest chunk; a cut is forced here when the content offers none.</summary>
    public int MaxSize { get; }
}
