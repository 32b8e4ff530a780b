using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using SpotDevBox.Backup.Chunking;

namespace SpotDevBox.Backup.Tests.Chunking;

public class FastCdcChunkerTests
{
    private const int MiB = 1024 * 1024;

    private static readonly ChunkerParameters Small = new(64, 256, 1024);

    [Fact]
    public void Gear_StartsWithThePublishedSplitMix64SeedZeroOutputs()
    {
        // The first outputs of Vigna's reference splitmix64.c with x = 0.
        Assert.Equal(0xE220A8397B1DCDAFUL, FastCdcChunker.Gear[0]);
        Assert.Equal(0x6E789E6AA1B965F4UL, FastCdcChunker.Gear[1]);
        Assert.Equal(0x06C45D188009454FUL, FastCdcChunker.Gear[2]);
        Assert.Equal(0xF88BB8A8724C81ECUL, FastCdcChunker.Gear[3]);
    }

    [Fact]
    public void Gear_IsSplitMix64SeedZero()
    {
        var generator = new SplitMix64(0);

        Assert.Equal(256, FastCdcChunker.Gear.Length);
        for (var i = 0; i < 256; i++)
        {
            Assert.Equal(generator.Next(), FastCdcChunker.Gear[i]);
        }
    }

    [Fact]
    public void Masks_DefaultParameters_AreNormalizationLevelTwoSpreadOverBits15To62()
    {
        var chunker = new FastCdcChunker(ChunkerParameters.Default);

        // log2(1 MiB) = 20: 22 bits before the average, 18 after, at bit 62 - floor(i * 48 / k).
        // k = 22: 62,60,58,56,54,52,49,47,45,43,41,38,36,34,32,30,28,25,23,21,19,17 -> 0x5552AA5552AA0000
        // k = 18: 62,60,57,54,52,49,46,44,41,38,36,33,30,28,25,22,20,17 -> 0x5252525252520000
        Assert.Equal(0x5552AA5552AA0000UL, chunker.SmallMask);
        Assert.Equal(0x5252525252520000UL, chunker.LargeMask);
        Assert.Equal(22, BitOperations.PopCount(chunker.SmallMask));
        Assert.Equal(18, BitOperations.PopCount(chunker.LargeMask));
    }

    [Fact]
    public async Task ChunkAsync_SmallParameters_MatchesTheReferenceBoundaries()
    {
        // Boundaries of 16 KiB of SplitMix64(seed 42) output (little-endian words) under the documented rule,
        // from an independent implementation of it written from the class remarks. If this fails, the
        // repository format changed: old snapshots would stop deduplicating.
        int[] expected =
        [
            269, 278, 266, 322, 376, 296, 304, 227, 68, 200, 270, 313, 292, 120, 147, 200, 275, 298, 287, 332,
            137, 300, 373, 241, 311, 113, 279, 490, 238, 364, 300, 418, 279, 76, 258, 303, 307, 66, 333, 495,
            281, 270, 361, 298, 143, 258, 182, 261, 451, 315, 291, 262, 392, 113, 394, 429, 321, 376, 165,
        ];

        var lengths = await LengthsAsync(new FastCdcChunker(Small), new MemoryStream(SplitMix64Bytes(42, 16 * 1024)));

        Assert.Equal(expected, lengths);
    }

    [Fact]
    public async Task ChunkAsync_DefaultParameters_MatchesTheReferenceBoundaries()
    {
        // 6 MiB of SplitMix64(seed 7) output; same independent implementation as above.
        int[] expected = [2_227_063, 560_023, 952_256, 269_564, 292_619, 1_092_193, 897_738];

        var lengths = await LengthsAsync(new FastCdcChunker(ChunkerParameters.Default), new MemoryStream(SplitMix64Bytes(7, 6 * MiB)));

        Assert.Equal(expected, lengths);
    }

    [Fact]
    public async Task ChunkAsync_SeededRandomInput_ChunksWithinLimitsExceptLastAndConcatenateToInput()
    {
        var input = RandomBytes(20 * MiB, seed: 1);
        var parameters = ChunkerParameters.Default;

        var chunks = await ChunksAsync(new FastCdcChunker(parameters), new MemoryStream(input));

        Assert.True(chunks.Count > 1);
        Assert.All(chunks.Take(chunks.Count - 1), c => Assert.InRange(c.Length, parameters.MinSize, parameters.MaxSize));
        Assert.InRange(chunks[^1].Length, 1, parameters.MaxSize);
        Assert.Equal(input, chunks.SelectMany(c => c).ToArray());
    }

    [Fact]
    public async Task ChunkAsync_SameInputTwice_SameBoundaries()
    {
        var input = RandomBytes(12 * MiB, seed: 2);

        var first = await LengthsAsync(new FastCdcChunker(ChunkerParameters.Default), new MemoryStream(input));
        var second = await LengthsAsync(new FastCdcChunker(ChunkerParameters.Default), new MemoryStream(input));

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task ChunkAsync_64MiBOfRandomData_AverageIsNearTheTarget()
    {
        var lengths = await LengthsAsync(new FastCdcChunker(ChunkerParameters.Default), new MemoryStream(RandomBytes(64 * MiB, seed: 3)));

        // Normalized chunking centres sizes a little above the 1 MiB target (cuts are rare before it and
        // easy after it); far outside this band the masks would be wrong.
        var mean = lengths.Take(lengths.Count - 1).Average();
        Assert.InRange(mean, 0.75 * MiB, 1.5 * MiB);
    }

    [Theory]
    [InlineData(10 * MiB)]
    [InlineData(1)]
    [InlineData((20 * MiB) - 1)]
    [InlineData(7 * MiB / 3)]
    public async Task ChunkAsync_OneByteInserted_ChangesAtMostTwoChunks(int offset)
    {
        var original = RandomBytes(20 * MiB, seed: 4);
        var edited = new byte[original.Length + 1];
        original.AsSpan(0, offset).CopyTo(edited);
        edited[offset] = 0x5A;
        original.AsSpan(offset).CopyTo(edited.AsSpan(offset + 1));

        var before = await ChunkHashesAsync(original);
        var after = await ChunkHashesAsync(edited);

        var changed = after.Except(before).Count();
        Assert.InRange(changed, 1, 2);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    [InlineData(1000)]
    public async Task ChunkAsync_ShortReads_SameBoundariesAsWholeReads(int largestRead)
    {
        var input = RandomBytes(256 * 1024, seed: 5);
        var chunker = new FastCdcChunker(Small);

        var whole = await LengthsAsync(chunker, new MemoryStream(input));
        var trickled = await LengthsAsync(chunker, new TrickleStream(input, largestRead, seed: largestRead));

        Assert.Equal(whole, trickled);
    }

    [Fact]
    public async Task ChunkAsync_RandomReadSizesWithDefaultParameters_SameBoundariesAsWholeReads()
    {
        var input = RandomBytes(12 * MiB, seed: 6);
        var chunker = new FastCdcChunker(ChunkerParameters.Default);

        var whole = await LengthsAsync(chunker, new MemoryStream(input));
        var trickled = await LengthsAsync(chunker, new TrickleStream(input, 300_000, seed: 6));

        Assert.Equal(whole, trickled);
    }

    [Fact]
    public async Task ChunkAsync_EmptyStream_YieldsNothing()
    {
        var chunks = await ChunksAsync(new FastCdcChunker(ChunkerParameters.Default), new MemoryStream([]));

        Assert.Empty(chunks);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData((256 * 1024) - 1)]
    [InlineData(256 * 1024)]
    public async Task ChunkAsync_AtMostMinSize_YieldsOneChunkWithEverything(int length)
    {
        var input = RandomBytes(length, seed: 7);

        var chunks = await ChunksAsync(new FastCdcChunker(ChunkerParameters.Default), new MemoryStream(input));

        var chunk = Assert.Single(chunks);
        Assert.Equal(input, chunk);
    }

    [Fact]
    public async Task ChunkAsync_AllZeroBytes_CutsAtMaxSize()
    {
        // With every byte 0 the hash after n bytes is GEAR[0] * (2^n - 1), constant from n = 64 on; none of
        // those 64 values has the mask bits all clear (checked with the reference implementation), so only
        // the 4 MiB limit cuts: 10 MiB = 4 + 4 + 2.
        var lengths = await LengthsAsync(new FastCdcChunker(ChunkerParameters.Default), new MemoryStream(new byte[10 * MiB]));

        Assert.Equal([4 * MiB, 4 * MiB, 2 * MiB], lengths);
    }

    [Fact]
    public async Task ChunkAsync_UnseekableStream_NeverReadsMoreThanTwiceMaxSizeAtOnce()
    {
        var input = RandomBytes(20 * MiB, seed: 8);
        var stream = new TrickleStream(input, int.MaxValue, seed: 8);

        await LengthsAsync(new FastCdcChunker(ChunkerParameters.Default), stream);

        Assert.InRange(stream.LargestRequest, 1, 8 * MiB);
    }

    [Fact]
    public async Task ChunkAsync_StreamLongerThanItsLength_ChunksAllOfIt()
    {
        // A file that grows while it is read: the buffer sized from Length must grow, not truncate.
        var input = RandomBytes(9 * MiB, seed: 9);

        var expected = await LengthsAsync(new FastCdcChunker(ChunkerParameters.Default), new MemoryStream(input));
        var actual = await LengthsAsync(new FastCdcChunker(ChunkerParameters.Default), new UnderstatedLengthStream(input, 1000));

        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task ChunkAsync_StreamNotAtItsStart_ChunksFromThePosition()
    {
        var input = RandomBytes(1000, seed: 10);
        var stream = new MemoryStream(input) { Position = 400 };

        var chunks = await ChunksAsync(new FastCdcChunker(ChunkerParameters.Default), stream);

        Assert.Equal(input[400..], Assert.Single(chunks));
    }

    [Fact]
    public async Task ChunkAsync_CancelledToken_Throws()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var chunker = new FastCdcChunker(ChunkerParameters.Default);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in chunker.ChunkAsync(new MemoryStream(new byte[1000]), cancelled.Token))
            {
            }
        });
    }

    private static async Task<List<byte[]>> ChunksAsync(FastCdcChunker chunker, Stream stream)
    {
        var chunks = new List<byte[]>();
        await foreach (var chunk in chunker.ChunkAsync(stream, CancellationToken.None))
        {
            // Copy: the slice is only valid until the next chunk is requested.
            chunks.Add(chunk.ToArray());
        }

        return chunks;
    }

    private static async Task<List<int>> LengthsAsync(FastCdcChunker chunker, Stream stream)
    {
        var lengths = new List<int>();
        await foreach (var chunk in chunker.ChunkAsync(stream, CancellationToken.None))
        {
            lengths.Add(chunk.Length);
        }

        return lengths;
    }

    private static async Task<HashSet<string>> ChunkHashesAsync(byte[] input)
    {
        var hashes = new HashSet<string>();
        await foreach (var chunk in new FastCdcChunker(ChunkerParameters.Default).ChunkAsync(new MemoryStream(input), CancellationToken.None))
        {
            hashes.Add(Convert.ToHexString(SHA256.HashData(chunk.Span)));
        }

        return hashes;
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] SplitMix64Bytes(ulong seed, int length)
    {
        var generator = new SplitMix64(seed);
        var bytes = new byte[(length + 7) / 8 * 8];
        for (var i = 0; i < bytes.Length; i += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i), generator.Next());
        }

        return bytes[..length];
    }

    /// <summary>The published SplitMix64 algorithm, written independently of the chunker's table.</summary>
    private sealed class SplitMix64(ulong seed)
    {
        private ulong state = seed;

        public ulong Next()
        {
            state += 0x9E3779B97F4A7C15;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            return z ^ (z >> 31);
        }
    }

    /// <summary>An unseekable stream that returns between 1 and <c>largestRead</c> bytes per read.</summary>
    private sealed class TrickleStream(byte[] content, int largestRead, int seed) : Stream
    {
        private readonly Random random = new(seed);
        private int position;

        public int LargestRequest { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            LargestRequest = Math.Max(LargestRequest, buffer.Length);
            var limit = largestRead == int.MaxValue ? buffer.Length : random.Next(1, largestRead + 1);
            var count = Math.Min(Math.Min(limit, buffer.Length), content.Length - position);
            content.AsSpan(position, count).CopyTo(buffer);
            position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A seekable stream whose Length claims fewer bytes than it returns.</summary>
    private sealed class UnderstatedLengthStream(byte[] content, long statedLength) : MemoryStream(content)
    {
        public override long Length => statedLength;
    }
}
