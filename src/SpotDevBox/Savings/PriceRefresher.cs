using System.Net;
using System.Text;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Savings;

/// <summary>How far a refresh got: rows and bytes of the offer read so far, and its size when the server said.</summary>
internal sealed record RefreshProgress(long Rows, long Bytes, long? TotalBytes);

/// <summary>What a refresh wrote.</summary>
/// <param name="OnDemandTable">The on-demand table's path.</param>
/// <param name="StorageTable">The storage table's path; null when the offer had no EBS prices (an older table is left as it is).</param>
internal sealed record RefreshResult(OfferPrices Offer, string Location, long Bytes, string OnDemandTable, string? StorageTable);

/// <summary>
/// <c>prices refresh</c>: streams an EC2 bulk offer (a URL or a local file) through <see cref="Ec2Offer"/>, then writes
/// <c>ondemand-linux-REGION.csv</c> (and <c>storage-REGION.csv</c>) into the refreshed-tables folder, each to a
/// temporary file renamed over the old one: a reader sees the old table or the new one, never half of one, and a
/// failed or interrupted refresh leaves the old tables as they were.
/// </summary>
internal sealed class PriceRefresher(PriceFolders folders, TimeProvider time)
{
    /// <summary>A download that delivers nothing for this long is given up.</summary>
    internal static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(60);

    public async Task<RefreshResult> RefreshAsync(
        string region,
        string? offer,
        Action<RefreshProgress> progress,
        CancellationToken cancellationToken,
        int reportEvery = 50_000)
    {
        ArgumentNullException.ThrowIfNull(progress);
        if (!StorageItems.IsRegion(region))
        {
            throw new ArgumentException($"--region: '{region}' is not an AWS region name (e.g. eu-central-1)");
        }

        var location = string.IsNullOrWhiteSpace(offer) ? Ec2Offer.UrlFor(region).ToString() : offer.Trim();
        using var http = IsUrl(location) ? CreateHttpClient() : null;
        using var response = http is null ? null : await GetAsync(http, location, cancellationToken);
        Stream raw;
        long? total;
        if (response is null)
        {
            var path = Path.GetFullPath(location.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(location).LocalPath : location);
            if (!File.Exists(path))
            {
                throw new ArgumentException($"--offer: there is no file {path}");
            }

            location = path;
            raw = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan | FileOptions.Asynchronous);
            total = raw.Length;
        }
        else
        {
            raw = await response.Content.ReadAsStreamAsync(cancellationToken);
            total = response.Content.Headers.ContentLength;
        }

        OfferPrices prices;
        await using (var counting = new CountingStream(raw, http is null ? null : StallTimeout))
        using (var reader = new StreamReader(counting, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16))
        {
            try
            {
                prices = await Ec2Offer.ReadAsync(reader, region, rows => progress(new RefreshProgress(rows, counting.BytesRead, total)), cancellationToken, reportEvery);
            }
            catch (Exception e) when (http is not null && e is HttpRequestException or IOException)
            {
                throw new IOException($"reading the offer from {location} failed after {counting.BytesRead} bytes: {Innermost(e)}", e);
            }

            var bytes = counting.BytesRead;
            var now = time.GetUtcNow();
            Directory.CreateDirectory(folders.Refreshed.Path);
            var onDemand = Path.Combine(folders.Refreshed.Path, PriceBook.OnDemandFileName(region));
            var storage = prices.Storage.Count > 0 ? Path.Combine(folders.Refreshed.Path, PriceBook.StorageFileName(region)) : null;
            WriteAtomically(onDemand, w => PriceTableWriter.WriteOnDemand(w, prices, location, now));
            if (storage is not null)
            {
                WriteAtomically(storage, w => PriceTableWriter.WriteStorage(w, prices, location, now));
            }

            return new RefreshResult(prices, location, bytes, onDemand, storage);
        }
    }

    /// <summary>"Connection refused (127.0.0.1:9)" rather than "An error occurred while sending the request".</summary>
    private static string Innermost(Exception e)
    {
        var messages = new List<string>();
        for (var x = e; x is not null; x = x.InnerException)
        {
            messages.Add(x.Message);
        }

        return string.Join(": ", messages.Distinct(StringComparer.Ordinal));
    }

    private static bool IsUrl(string location) =>
        location.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || location.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    private static HttpClient CreateHttpClient() => new(new SocketsHttpHandler
    {
        AutomaticDecompression = DecompressionMethods.All,
        ConnectTimeout = TimeSpan.FromSeconds(30),
    })
    {
        // Until the response headers (ResponseHeadersRead); the body is watched by the stall timeout instead.
        Timeout = TimeSpan.FromSeconds(100),
    };

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string url, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(new Uri(url), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"cannot fetch the offer {url}: {Innermost(e)}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"cannot fetch the offer {url}: no answer within {http.Timeout.TotalSeconds:0} s", e);
        }

        if (!response.IsSuccessStatusCode)
        {
            var status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            response.Dispose();
            throw new IOException($"cannot fetch the offer {url}: {status}");
        }

        return response;
    }

    /// <summary>Writes the table through <see cref="Core.FileSystem.AtomicFile"/>: a reader sees the old table or the new one.</summary>
    internal static void WriteAtomically(string path, Action<TextWriter> write) =>
        Core.FileSystem.AtomicFile.Write(
            path,
            stream =>
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
                write(writer);
            },
            Core.FileSystem.AtomicFile.WorldReadable);

    /// <summary>Counts the bytes read through it; with a stall timeout, a read that gets nothing for that long fails.</summary>
    private sealed class CountingStream(Stream inner, TimeSpan? stallTimeout) : Stream
    {
        private long _bytesRead;

        public long BytesRead => Interlocked.Read(ref _bytesRead);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (stallTimeout is not { } stall)
            {
                return Count(await inner.ReadAsync(buffer, cancellationToken));
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(stall);
            try
            {
                return Count(await inner.ReadAsync(buffer, timeout.Token));
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new IOException($"no data for {stall.TotalSeconds:0} s", e);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }

        private int Count(int read)
        {
            Interlocked.Add(ref _bytesRead, read);
            return read;
        }
    }
}
