using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SpotDevBox.Backup.Chunking;

/// <summary>
/// Content-defined chunking with FastCDC (Xia et al., USENIX ATC 2016, and the 2020 TPDS version):
/// a gear rolling hash, cut-point skipping below the minimum size and normalized chunking (level 2).
/// </summary>
/// <remarks>
/// <para>
/// The boundaries are part of the repository format: if they moved between versions, unchanged files
/// would stop deduplicating against older snapshots. Do not change the table, the masks or the rule
/// below without a new repository format version. The rule, for a chunk starting at offset s:
/// </para>
/// <code>
/// h = 0
/// for n = MinSize, MinSize + 1, ...          // n = the chunk length if we cut here
///     h = (h &lt;&lt; 1) + GEAR[byte at s + n - 1]   (mod 2^64)
///     if (h &amp; (n &lt;= AverageSize ? MaskS : MaskL)) == 0: the chunk is n bytes long
///     if n == MaxSize: the chunk is MaxSize bytes long
/// the stream ending first makes the rest the last chunk (which may be shorter than MinSize)
/// </code>
/// <para>
/// GEAR[i] is the i-th output (from 0) of SplitMix64 seeded with 0 (Steele, Lea and Flood 2014; the
/// reference is Vigna's splitmix64.c): state += 0x9E3779B97F4A7C15; z = state;
/// z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB; out = z ^ (z >> 31).
/// It is written out below rather than generated so that a change to it shows up in review.
/// </para>
/// <para>
/// MaskS has log2(AverageSize) + 2 bits set and MaskL log2(AverageSize) - 2 (FastCDC's "NC level 2":
/// harder to cut before the average, easier after, which narrows the size distribution). A mask with k
/// bits sets bit 62 - floor(i * 48 / k) for i = 0..k-1: the bits are spread over positions 15..62 because
/// bit j of a gear hash depends on the last j + 1 bytes, so high bits give a wider effective window.
/// </para>
/// <para>
/// Memory is bounded: one array of at most 2 * MaxSize per running enumeration, rented from the shared
/// pool and returned when the enumeration ends. The instance itself holds no buffers and is thread-safe.
/// </para>
/// </remarks>
internal sealed class FastCdcChunker(ChunkerParameters parameters, ArrayPool<byte>? bufferPool = null)
{
    // The shared pool keeps arrays per thread; a backup passes a bounded pool of its own so that memory
    // stays at one buffer per reader however many thread-pool threads the readers hop across.
    private readonly ArrayPool<byte> _pool = bufferPool ?? ArrayPool<byte>.Shared;

    private const int NormalizationLevel = 2;

    private readonly int minSize = parameters.MinSize;
    private readonly int averageSize = parameters.AverageSize;
    private readonly int maxSize = parameters.MaxSize;
    private readonly ulong smallMask = CutMask(Log2(parameters.AverageSize) + NormalizationLevel);
    private readonly ulong largeMask = CutMask(Log2(parameters.AverageSize) - NormalizationLevel);

    public ChunkerParameters Parameters { get; } = parameters;

    /// <summary>Mask used while the chunk would be at most the average size.</summary>
    internal ulong SmallMask => smallMask;

    /// <summary>Mask used once the chunk would be larger than the average size.</summary>
    internal ulong LargeMask => largeMask;

    /// <summary>
    /// Splits <paramref name="stream"/>, read from its current position to its end, into chunks.
    /// </summary>
    /// <remarks>
    /// Each chunk is a slice of a buffer that is reused: it is valid only until the enumeration is advanced
    /// again (or disposed). Hash it, compress it or copy it before asking for the next one. An empty stream
    /// yields nothing; a stream shorter than <see cref="ChunkerParameters.MinSize"/> yields one chunk. The
    /// boundaries depend only on the bytes, not on how many bytes each read returns.
    /// </remarks>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ChunkAsync(
        Stream stream,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);

        var largestBuffer = 2 * maxSize;
        var buffer = _pool.Rent(InitialBufferSize(stream, largestBuffer));
        try
        {
            // Unconsumed bytes are buffer[start..end); position and hash carry a scan of the chunk
            // that starts at `start` across reads, so a short read never makes us hash a byte twice.
            var start = 0;
            var end = 0;
            var endOfStream = false;
            var position = minSize - 1;
            var hash = 0UL;
            while (true)
            {
                var cut = FindCut(buffer.AsSpan(start, end - start), ref position, ref hash, endOfStream);
                if (cut > 0)
                {
                    yield return buffer.AsMemory(start, cut);
                    start += cut;
                    position = minSize - 1;
                    hash = 0;
                    continue;
                }

                if (endOfStream)
                {
                    yield break;
                }

                // FindCut wants more bytes, so fewer than MaxSize are pending: moving them to the front of a
                // 2 * MaxSize buffer always leaves room for a read of more than MaxSize.
                var capacity = Math.Min(buffer.Length, largestBuffer);
                if (end == capacity)
                {
                    var pending = end - start;
                    if (capacity < largestBuffer)
                    {
                        // The stream was longer than its Length said (a file growing while we read it).
                        var larger = _pool.Rent(largestBuffer);
                        buffer.AsSpan(start, pending).CopyTo(larger);
                        _pool.Return(buffer);
                        buffer = larger;
                        capacity = Math.Min(buffer.Length, largestBuffer);
                    }
                    else
                    {
                        buffer.AsSpan(start, pending).CopyTo(buffer);
                    }

                    start = 0;
                    end = pending;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(end, capacity - end), cancellationToken);
                if (read == 0)
                {
                    endOfStream = true;
                }

                end += read;
            }
        }
        finally
        {
            _pool.Return(buffer);
        }
    }

    /// <summary>
    /// Length of the chunk at the start of <paramref name="pending"/>; 0 when the stream has ended and
    /// nothing is pending; -1 when more bytes are needed to decide. <paramref name="position"/> (the next
    /// offset to hash) and <paramref name="hash"/> carry the scan over to the next call in that case.
    /// </summary>
    private int FindCut(ReadOnlySpan<byte> pending, ref int position, ref ulong hash, bool endOfStream)
    {
        var limit = Math.Min(pending.Length, maxSize);
        var i = position;
        var h = hash;
        if (i < limit)
        {
            ref var data = ref MemoryMarshal.GetReference(pending);
            var smallLimit = Math.Min(limit, averageSize);
            var cut = i < smallLimit ? Scan(ref data, i, smallLimit, smallMask, ref h) : -1;
            if (cut < 0)
            {
                cut = Scan(ref data, Math.Max(i, smallLimit), limit, largeMask, ref h);
            }

            if (cut >= 0)
            {
                return (int)cut;
            }

            i = limit;
        }

        if (limit == maxSize)
        {
            return maxSize;
        }

        position = i;
        hash = h;
        return endOfStream ? pending.Length : -1;
    }

    /// <summary>
    /// Rolls <paramref name="hash"/> over data[from..to) and returns the chunk length (index + 1) of the
    /// first byte after which the masked bits are all zero, or -1 with the hash rolled over the whole range.
    /// </summary>
    /// <remarks>
    /// The hot loop. Indexing by ref with a native-sized index removes the bounds checks and sign
    /// extensions, and unrolling by four removes most of the loop overhead: together about 1.5x the
    /// throughput of the plain span loop. It is safe because the caller passes to &lt;= data's length and
    /// a byte always indexes inside the 256-entry table.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static nint Scan(ref byte data, nint from, nint to, ulong mask, ref ulong hash)
    {
        ref var gear = ref MemoryMarshal.GetReference(Gear);
        var h = hash;
        var i = from;
        for (; i + 4 <= to; i += 4)
        {
            h = (h << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref data, i));
            if ((h & mask) == 0)
            {
                return i + 1;
            }

            h = (h << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref data, i + 1));
            if ((h & mask) == 0)
            {
                return i + 2;
            }

            h = (h << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref data, i + 2));
            if ((h & mask) == 0)
            {
                return i + 3;
            }

            h = (h << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref data, i + 3));
            if ((h & mask) == 0)
            {
                return i + 4;
            }
        }

        for (; i < to; i++)
        {
            h = (h << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref data, i));
            if ((h & mask) == 0)
            {
                return i + 1;
            }
        }

        hash = h;
        return -1;
    }

    private static int InitialBufferSize(Stream stream, int largestBuffer)
    {
        // Most files in a working tree are far smaller than 2 * MaxSize; do not rent megabytes for them.
        // One byte more than the file lets the read that sees the end fit without growing the buffer.
        if (stream.CanSeek)
        {
            var remaining = Math.Max(0, stream.Length - stream.Position);
            if (remaining < largestBuffer)
            {
                return (int)remaining + 1;
            }
        }

        return largestBuffer;
    }

    private static int Log2(int powerOfTwo) => System.Numerics.BitOperations.Log2((uint)powerOfTwo);

    /// <summary>A mask with <paramref name="bits"/> bits set, spread over bits 15..62 (see the class remarks).</summary>
    internal static ulong CutMask(int bits)
    {
        var mask = 0UL;
        for (var i = 0; i < bits; i++)
        {
            mask |= 1UL << (62 - (i * 48 / bits));
        }

        return mask;
    }

    /// <summary>SplitMix64(seed 0) outputs 0..255; see the class remarks. Part of the repository format.</summary>
    internal static ReadOnlySpan<ulong> Gear =>
    [
        0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F, 0xF88BB8A8724C81EC,
        0x1B39896A51A8749B, 0x53CB9F0C747EA2EA, 0x2C829ABE1F4532E1, 0xC584133AC916AB3C,
        0x3EE5789041C98AC3, 0xF3B8488C368CB0A6, 0x657EECDD3CB13D09, 0xC2D326E0055BDEF6,
        0x8621A03FE0BBDB7B, 0x8E1F7555983AA92F, 0xB54E0F1600CC4D19, 0x84BB3F97971D80AB,
        0x7D29825C75521255, 0xC3CF17102B7F7F86, 0x3466E9A083914F64, 0xD81A8D2B5A4485AC,
        0xDB01602B100B9ED7, 0xA9038A921825F10D, 0xEDF5F1D90DCA2F6A, 0x54496AD67BD2634C,
        0xDD7C01D4F5407269, 0x935E82F1DB4C4F7B, 0x69B82EBC92233300, 0x40D29EB57DE1D510,
        0xA2F09DABB45C6316, 0xEE521D7A0F4D3872, 0xF16952EE72F3454F, 0x377D35DEA8E40225,
        0x0C7DE8064963BAB0, 0x05582D37111AC529, 0xD254741F599DC6F7, 0x69630F7593D108C3,
        0x417EF96181DAA383, 0x3C3C41A3B43343A1, 0x6E19905DCBE531DF, 0x4FA9FA7324851729,
        0x84EB4454A792922A, 0x134F7096918175CE, 0x07DC930B302278A8, 0x12C015A97019E937,
        0xCC06C31652EBF438, 0xECEE65630A691E37, 0x3E84ECB1763E79AD, 0x690ED476743AAE49,
        0x774615D7B1A1F2E1, 0x22B353F04F4F52DA, 0xE3DDD86BA71A5EB1, 0xDF268ADEB6513356,
        0x2098EB73D4367D77, 0x03D6845323CE3C71, 0xC952C5620043C714, 0x9B196BCA844F1705,
        0x30260345DD9E0EC1, 0xCF448A5882BB9698, 0xF4A578DCCBC87656, 0xBFDEAED9A17B3C8F,
        0xED79402D1D5C5D7B, 0x55F070AB1CBBF170, 0x3E00A34929A88F1D, 0xE255B237B8BB18FB,
        0x2A7B67AF6C6AD50E, 0x466D5E7F3E46F143, 0x42375CB399A4FC72, 0x8C8A1F148A8BB259,
        0x32FCAB5DAED5BDFC, 0x9E60398C8D8553C0, 0xEE89CCEB8C4064C0, 0xDB0215941D86A66F,
        0x5CCDE78203C367A8, 0xF1BCBC6A1EC11786, 0xEF054FCEEE954551, 0xDF82012D0555C6DF,
        0x292566FF72403C08, 0xC4DD302A1BFA1137, 0xD85F219DB5C554E1, 0x6A27FF807441BCD2,
        0x96A573E9B48216E8, 0x46A9FDAC40BF0048, 0x3DD12464A0EE15B4, 0x451E521296A7EEA1,
        0x56E4398A98F8A0FD, 0x7B7DC2160E3335A7, 0xC679EE0BEBCB1CCA, 0x928D6F2D7453424E,
        0x1B38994205234C6D, 0x8086D193A6F2B568, 0x21C6E26639AC2C65, 0xD9DCCAC414D23C6F,
        0x91CD642057E00235, 0x77FC607DC6589373, 0x05B8ABE26DD3AEE7, 0x12F6436AC376CC66,
        0x64952424897B2307, 0xEE8C2BAF6343E5C3, 0xDC4C613D9EBA2304, 0x3505B7796BD1A506,
        0x8176DAF800A05F50, 0x8BD8FF7A0385CDBC, 0x1A764A3CD78101DA, 0xBE4D15BF6CA266AC,
        0xA85E1F38BB2DC749, 0x56759A968493CD8C, 0xF3A9BCE7336BD182, 0x365B15013741519B,
        0x1F7A44A6B109AC94, 0x3521D628813CB177, 0x6A77AFAB0F7C9370, 0x179642D8CDE95015,
        0x5EF102A8FB354461, 0xF51C504764ED82F2, 0xC58427F041CE6808, 0xFAD8FC45C9643C37,
        0xCF8682F9A70FA9C0, 0x7E1B3B75A4005729, 0x992DD867927B52D8, 0x7FBD5DB142F6791F,
        0x370595AACAB4ADAE, 0xB1392DBDC5AB61D6, 0x9FEA7DFC79D452D9, 0x40B12B120085641C,
        0xA192AFE3157C85D0, 0xC847729F4E08F3A3, 0x6F1384A306C41FC2, 0x12D05C4045A39C19,
        0x9899202FD20F0841, 0xE9C7191857E774B8, 0x4EEAD809AF5B0CC3, 0xE809ACAFA23864A4,
        0x4DA1EDABA1D0F7BD, 0x846EB9673349F8E4, 0x87BAE55B86039FE8, 0x7F367B8BD953EFF2,
        0x3884700F650D04E1, 0xBFE4B2AB46980CAD, 0xC5FC89075299106C, 0x37B2FA361ADEA7CD,
        0x7D75D813F04895B4, 0x702F5B393F62C0E0, 0x0A3FC775F4ECF37F, 0xE4B23787A352437F,
        0xF83FA245C34D6363, 0xB99BCF040786CF50, 0x38B6EA0A0E6C9D8A, 0x093FDC76776E37E1,
        0x1A75E6F76BA7EEE8, 0x442CDCFEE9660C62, 0x22D58D35116B5E0B, 0x87D4A5180F6A3645,
        0x589FB216BD82131B, 0x91D031CAD319AEC0, 0xABECF76A553D320B, 0xB8686CB347612DCF,
        0xFCAB66337C0A77F5, 0xAC318214381EC437, 0x6EB7F0FCA24494AE, 0xCF42861DCDC895A9,
        0x4ABAD7A1586D7A91, 0xC21B318DC2F49745, 0xD49474DC2ACBD1F0, 0xB1D4873747C1C8E1,
        0x5434DC8C7D015BF6, 0xE1C486287511B6A9, 0xA8616DF62E89A193, 0x31CE6319498D8347,
        0xAFD0B486123D6FAA, 0xE6495F5D102301EB, 0x0DC51CED17A43C52, 0x8BCBCDE81355EF2D,
        0x2412AF73FDEE7CFC, 0xC8D589E486E29EED, 0x23390E8664517F89, 0x251ADE58E8A6849D,
        0xF8555DBD2E8F9CB0, 0xCB417C3EEF54F7C3, 0x8028F8E1AAC3A919, 0x10E31052ACF748A0,
        0x2D886C073B1E1B78, 0x972974D90DF9FAEE, 0xBC1B7B38796893BA, 0x1958ED432070E652,
        0xCA5F297197A12DCC, 0xE025A27375704F28, 0x418010A570A924FB, 0x9828E2941BFC419C,
        0x4FBACD2F52B85C1F, 0x33DD5B756211CC67, 0x23C8DFDD1DB57FF0, 0x32F81801A1A8E901,
        0x26884EAC5ADA36DA, 0xCAA82F9BB42E37D4, 0x19FB1A7491D6A7D1, 0x5AA0243AA357F38E,
        0xB31D917809E447F0, 0x3F9C197225215BE0, 0xDC3C315A1E33C095, 0x3DD399AD533E80AC,
        0x566F32CCE8301D95, 0xC880188083D9BA21, 0xB9CC357F3B0E7D2E, 0x0237D2123A8A8D6C,
        0xBF636E9AA7CBF6BD, 0xD7BD4284C4E2A6A7, 0xDA2EBB47D50577A9, 0x90BA1C11B539087D,
        0x44993D31552B4F57, 0x32C2D6F80A8A8898, 0x450583ED7FB54B19, 0xEC2B0B09E50EF3EF,
        0xD918A0B6E2EFD65C, 0xE37A868D9785F572, 0x7D1A6118F2B0F37A, 0x9E2E3CC13B343439,
        0xEFD82C11212E37E8, 0xAF89C05CD4FC75ED, 0x55BC16BB9697108E, 0x6C4701FA5DB69BEE,
        0x9237338441DAF445, 0x248CF0831E81A5FC, 0xACC13557E77DE273, 0x520970C25E06513A,
        0x657329CB02987CAB, 0xA9B0B3366A4E55A8, 0xC4D06CA2F39ACDD4, 0x5DCE37D68170CDE1,
        0x5F1E44E77E1854C9, 0x6883D452D55DF899, 0x05C5BD62F1067032, 0xE680B683CE60FAB0,
        0x5DC9DA3F286D18B1, 0x94B4BF3AB85ED6D8, 0xCE65F449E3ACC5A3, 0x34B0209642CEA639,
        0xC14C3C771D904827, 0x6ADDCEE2BD9CDEE5, 0xE24EED137FFBB613, 0x75DD58EF79963D1B,
        0xFDB83ECF6CC24920, 0x7A1D0057C57169FB, 0x339200F4FEB62D07, 0xD33F4D4AC88469F4,
        0x8226F234E68DFEE4, 0x320DEF4F2A105536, 0x7786F3B13AEFC159, 0xB28225AC9DF63EE2,
        0x781B9D0376CC6044, 0x05BD0115226C6AB6, 0xD302230207BDFDAB, 0xDB898ABD8E0D2933,
        0x9E79A397BA00B9CC, 0x89DF84A5F0003EE8, 0x011F04F2A75FB9BE, 0x5A5832BB47BCF19E
    ];
}
