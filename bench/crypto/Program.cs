using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using SpotDevBox.Backup.Crypto;
using SpotDevBox.Backup.Format;

// Throughput of the version 3 primitives against what a backup already spends per byte (SHA-256 ids,
// zstd level 3), on one 8 MiB pack's worth of bytes, one thread. Each figure is the median of 5 runs;
// a run processes the pack 8 times (64 MiB). MB/s = 10^6 bytes per second of plaintext.
const int PackSize = 8 << 20;
const int BlobSize = 1 << 20; // the chunker's average blob: version 3 seals each blob of a pack on its own, all under the pack's one sealer
const int Runs = 5;
const int PassesPerRun = 8;

var inputs = new (string Name, byte[] Bytes)[] { ("source-like text", SourceLike(PackSize, 14)), ("random (incompressible)", RandomBytes(PackSize, 15)) };

using var key = MasterKey.Generate();
var benchId = BlobId.Compute("bench"u8); // blobs are bound to their id; any id will do here
using var cipher = new ObjectCipher(key, "00112233445566778899aabbccddeeff");
using var ids = new KeyedIds(key);
var sealedWhole = new byte[ObjectCipher.SealedLength(PackSize)];
var sealedBlobs = new byte[(PackSize / BlobSize) * ObjectCipher.SealedLength(BlobSize)];
var opened = new byte[PackSize];
var compressed = new byte[Compression.Bound(PackSize)];

Console.WriteLine($"{RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} cores, .NET {Environment.Version}, {CpuModel()}, AES instructions: {AesInHardware()}");
Console.WriteLine();
var tree = SourceLike(4096, 16);
var sealedTree = new byte[ObjectCipher.SealedLength(tree.Length)];
using (var treeSealer = cipher.CreateSealer())
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fixed cost per object (a 4 KiB tree blob): seal under the pack's sealer {MicrosecondsPerCall(() => treeSealer.Seal(tree, ObjectKind.TreeBlob, sealedTree, benchId)):0.0} µs, open (derives the object's key: HKDF + AES key setup) {MicrosecondsPerCall(() => cipher.Open(sealedTree, ObjectKind.TreeBlob, opened, benchId)):0.0} µs, SHA-256 id {MicrosecondsPerCall(() => BlobId.Compute(tree)):0.0} µs, keyed id {MicrosecondsPerCall(() => ids.Compute(tree)):0.0} µs (median of 5 runs of 2,000)"));
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fixed cost per pack: a new sealer (salt, HKDF, AES key setup) {MicrosecondsPerCall(() => cipher.CreateSealer().Dispose()):0.0} µs"));
// What the engine could do instead (not what it does): an HMAC whose key is set up once and reset
// between blobs, and a blob opened with its pack's key already derived and set up.
using (var hasher = ids.CreateHasher())
using (var readyAes = new System.Security.Cryptography.AesGcm(new byte[32], ObjectCipher.TagSize))
{
    var nonce = new byte[ObjectCipher.NonceSize];
    var tag = new byte[ObjectCipher.TagSize];
    var ciphertext = new byte[tree.Length];
    readyAes.Encrypt(nonce, tree, ciphertext, tag);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alternatives, 4 KiB: keyed id with a reused HMAC {MicrosecondsPerCall(() => { hasher.Append(tree); hasher.GetIdAndReset(); }):0.0} µs, AES-GCM decrypt with the key already set up {MicrosecondsPerCall(() => readyAes.Decrypt(nonce, ciphertext, tag, opened.AsSpan(0, tree.Length))):0.0} µs"));
}
var ikm = new byte[32];
var salt = new byte[32];
var okm = new byte[32];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"of which: HKDF-SHA256 derivation {MicrosecondsPerCall(() => System.Security.Cryptography.HKDF.DeriveKey(System.Security.Cryptography.HashAlgorithmName.SHA256, ikm, okm, salt, "spotdevbox/v3/object"u8)):0.0} µs, AES-GCM key setup {MicrosecondsPerCall(() => new System.Security.Cryptography.AesGcm(okm, 16).Dispose()):0.0} µs, 32 random bytes {MicrosecondsPerCall(() => System.Security.Cryptography.RandomNumberGenerator.Fill(salt)):0.0} µs"));
Console.WriteLine();
foreach (var (name, pack) in inputs)
{
    var zstdLength = Compression.CompressInto(pack, compressed, 3);
    Console.WriteLine($"### {name}: 8 MiB, zstd level 3 to {(zstdLength == 0 ? "none (stored raw)" : $"{zstdLength * 100.0 / PackSize:0.0}%")}");
    Console.WriteLine();
    Console.WriteLine("| operation | MB/s (median of 5) |");
    Console.WriteLine("|---|---|");

    var sha = Measure(() => BlobId.Compute(pack));
    var hmac = Measure(() => ids.Compute(pack));
    var sealWhole = Measure(() => cipher.Seal(pack, ObjectKind.DataBlob, sealedWhole, benchId));
    cipher.Seal(pack, ObjectKind.DataBlob, sealedWhole, benchId);
    var openWhole = Measure(() => cipher.Open(sealedWhole, ObjectKind.DataBlob, opened, benchId));
    var sealBlobs = Measure(() => SealBlobs(pack));
    SealBlobs(pack);
    var openBlobs = Measure(() => OpenBlobs());
    var zstd = Measure(() => Compression.CompressInto(pack, compressed, 3));
    var unzstd = zstdLength == 0 ? double.PositiveInfinity : Measure(() => Compression.DecompressInto(compressed.AsSpan(0, zstdLength), CompressionKind.Zstd, opened));

    Row("SHA-256 id (today)", sha);
    Row("KeyedIds: HMAC-SHA256 id", hmac);
    Row("ObjectCipher.Seal, the pack as one object", sealWhole);
    Row("ObjectCipher.Open, the pack as one object", openWhole);
    Row("Sealer.Seal, 8 blobs of 1 MiB under one sealer (the pack's)", sealBlobs);
    Row("ObjectCipher.Open, 8 blobs of 1 MiB, each on its own", openBlobs);
    Row("zstd level 3 compression (today)", zstd);
    if (zstdLength != 0)
    {
        Row("zstd decompression (today)", unzstd);
    }
    // Per byte a version 3 backup swaps the SHA-256 id for the HMAC and adds a seal; a version 2
    // backup already spends zstd + SHA-256 on it (plus chunking, reading and uploading, left out here).
    var today = 1 / zstd + 1 / sha;
    var added = 1 / hmac - 1 / sha + 1 / sealBlobs;
    Console.WriteLine();
    Console.WriteLine($"added CPU per byte on backup, against zstd + SHA-256 alone: {added / today * 100:0.0}%");
    // Restore verifies each blob by its id after decompressing it: the open is what is added.
    var restoreToday = 1 / unzstd + 1 / sha;
    var restoreAdded = 1 / hmac - 1 / sha + 1 / openBlobs;
    Console.WriteLine($"added CPU per byte on restore, against zstd decompression + SHA-256 alone: {restoreAdded / restoreToday * 100:0.0}%");
    Console.WriteLine();
}

return;

void SealBlobs(byte[] pack)
{
    using var sealer = cipher.CreateSealer(); // one sealer per pack, as the engine does
    var at = 0;
    for (var offset = 0; offset < PackSize; offset += BlobSize)
    {
        at += sealer.Seal(pack.AsSpan(offset, BlobSize), ObjectKind.DataBlob, sealedBlobs.AsSpan(at), benchId);
    }
}

void OpenBlobs()
{
    var sealedLength = ObjectCipher.SealedLength(BlobSize);
    for (var i = 0; i < PackSize / BlobSize; i++)
    {
        cipher.Open(sealedBlobs.AsSpan(i * sealedLength, sealedLength), ObjectKind.DataBlob, opened.AsSpan(i * BlobSize, BlobSize), benchId);
    }
}

static double Measure(Action operation)
{
    operation(); // warm-up: JIT, zstd context, OpenSSL
    var rates = new double[Runs];
    for (var run = 0; run < Runs; run++)
    {
        var watch = Stopwatch.StartNew();
        for (var pass = 0; pass < PassesPerRun; pass++)
        {
            operation();
        }

        rates[run] = (double)PackSize * PassesPerRun / 1e6 / watch.Elapsed.TotalSeconds;
    }

    Array.Sort(rates);
    return rates[Runs / 2];
}

static double MicrosecondsPerCall(Action operation)
{
    const int Calls = 2000;
    operation();
    var times = new double[Runs];
    for (var run = 0; run < Runs; run++)
    {
        var watch = Stopwatch.StartNew();
        for (var call = 0; call < Calls; call++)
        {
            operation();
        }

        times[run] = watch.Elapsed.TotalMicroseconds / Calls;
    }

    Array.Sort(times);
    return times[Runs / 2];
}

static void Row(string operation, double megabytesPerSecond) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {operation} | {megabytesPerSecond:0} |"));

static byte[] RandomBytes(int size, int seed)
{
    var bytes = new byte[size];
    new Random(seed).NextBytes(bytes);
    return bytes;
}

// Lines of identifiers, keywords and numbers drawn (Zipf-like) from a fixed vocabulary: it compresses
// with zstd about as source trees do, which is what most of a home's packs hold.
static byte[] SourceLike(int size, int seed)
{
    var random = new Random(seed);
    var words = Enumerable.Range(0, 4000).Select(i => (i % 7) switch
    {
        0 => "public", 1 => "return", 2 => "var", 3 => "await",
        _ => new string(Enumerable.Range(0, 3 + random.Next(10)).Select(_ => (char)('a' + random.Next(26))).ToArray()),
    }).ToArray();
    var text = new StringBuilder(size + 200);
    while (text.Length < size)
    {
        text.Append(' ', 4 * random.Next(4));
        for (var n = 2 + random.Next(8); n > 0; n--)
        {
            text.Append(words[(int)(words.Length * Math.Pow(random.NextDouble(), 3))]).Append(random.Next(5) == 0 ? "(" + random.Next(1000) + ");" : " ");
        }

        text.Append('\n');
    }

    return Encoding.ASCII.GetBytes(text.ToString(0, size));
}

static string CpuModel() =>
    File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
        : "unknown CPU";

static string AesInHardware() =>
    System.Runtime.Intrinsics.X86.Aes.IsSupported || System.Runtime.Intrinsics.Arm.Aes.IsSupported ? "yes" : "no";
