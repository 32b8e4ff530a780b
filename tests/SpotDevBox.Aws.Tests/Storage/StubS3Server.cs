using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SpotDevBox.Aws.Tests.Storage;

internal enum StubBehavior
{
    /// <summary>Reads the request and answers 200 (HEAD: an object of 5 bytes).</summary>
    Ok,

    /// <summary>Like <see cref="Ok"/>, but holds every answer for a while so concurrent requests overlap.</summary>
    SlowOk,

    /// <summary>Reads the whole body, then answers 413 EntityTooLarge the way S3 does.</summary>
    EntityTooLargeAfterBody,

    /// <summary>Lets the body start, answers 413 and closes the connection, the way fauxqs' body limit does.</summary>
    EntityTooLargeMidBody,

    /// <summary>
    /// What real S3 answers a caller whose s3:ListBucket is granted only under a prefix: 403 AccessDenied to a GET or
    /// HEAD of an object that is missing; a ListObjectsV2 (allowed by that grant) lists nothing under the key.
    /// </summary>
    DeniedReadOfAnUnlistedKey,

    /// <summary>403 to a GET or HEAD of the object, whose key a ListObjectsV2 does list: the object is there but refused.</summary>
    DeniedReadOfAListedKey,

    /// <summary>403 AccessDenied to every request, listings included.</summary>
    DeniedEverything,
}

internal sealed record RecordedRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// A minimal HTTP/1.1 server on loopback for what the S3 peer cannot show: which headers the SDK sends
/// (fauxqs ignores SSE headers), how a 413 is handled, and how many requests run at once.
/// </summary>
internal sealed class StubS3Server : IAsyncDisposable
{
    private static readonly TimeSpan SlowDelay = TimeSpan.FromMilliseconds(400);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentBag<Task> _handlers = [];
    private readonly StubBehavior _behavior;
    private readonly Task _acceptLoop;
    private int _inFlight;
    private int _peakInFlight;

    public StubS3Server(StubBehavior behavior)
    {
        _behavior = behavior;
        _listener.Start();
        Endpoint = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture)}";
        _acceptLoop = AcceptLoopAsync();
    }

    public string Endpoint { get; }

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public int PeakConcurrentRequests => Volatile.Read(ref _peakInFlight);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        await Task.WhenAll(_handlers);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _handlers.Add(HandleAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped by DisposeAsync.
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        var now = Interlocked.Increment(ref _inFlight);
        for (var peak = Volatile.Read(ref _peakInFlight); now > peak; peak = Volatile.Read(ref _peakInFlight))
        {
            Interlocked.CompareExchange(ref _peakInFlight, now, peak);
        }

        try
        {
            using (client)
            {
                await ServeAsync(client.GetStream(), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // The client gave up or the server is stopping; nothing to answer.
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task ServeAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var (request, bodyStart) = await ReadHeadAsync(stream, cancellationToken);
        _requests.Enqueue(request);
        var contentLength = request.Headers.TryGetValue("content-length", out var text) ? long.Parse(text, CultureInfo.InvariantCulture) : 0;
        if (request.Headers.TryGetValue("expect", out var expect) && expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase))
        {
            await WriteAsync(stream, "HTTP/1.1 100 Continue\r\n\r\n", cancellationToken);
        }

        switch (_behavior)
        {
            case StubBehavior.EntityTooLargeMidBody:
                await DrainAsync(stream, Math.Min(contentLength - bodyStart, 64 * 1024), cancellationToken);
                await WriteResponseAsync(stream, "413 Payload Too Large", "application/json",
                    """{"statusCode":413,"code":"FST_ERR_CTP_BODY_TOO_LARGE","error":"Payload Too Large","message":"Request body is too large"}""",
                    cancellationToken);
                return; // closing now leaves the rest of the body unread, so the client's send breaks off

            case StubBehavior.EntityTooLargeAfterBody:
                await DrainAsync(stream, contentLength - bodyStart, cancellationToken);
                await WriteResponseAsync(stream, "413 Request Entity Too Large", "application/xml",
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>",
                    cancellationToken);
                return;

            case StubBehavior.DeniedReadOfAnUnlistedKey or StubBehavior.DeniedReadOfAListedKey or StubBehavior.DeniedEverything:
                await DrainAsync(stream, contentLength - bodyStart, cancellationToken);
                var query = request.Target.Contains('?', StringComparison.Ordinal) ? request.Target[(request.Target.IndexOf('?', StringComparison.Ordinal) + 1)..] : "";
                var parameters = query.Split('&', StringSplitOptions.RemoveEmptyEntries)
                    .Select(p => p.Split('=', 2))
                    .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1]) : "", StringComparer.Ordinal);
                if (_behavior != StubBehavior.DeniedEverything && request.Method == "GET" && parameters.ContainsKey("list-type"))
                {
                    var prefix = parameters.GetValueOrDefault("prefix", "");
                    var contents = _behavior == StubBehavior.DeniedReadOfAListedKey
                        ? $"<Contents><Key>{System.Security.SecurityElement.Escape(prefix)}</Key><LastModified>2026-12-07T09:00:00.000Z</LastModified><ETag>\"stub\"</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>"
                        : "";
                    var count = contents.Length == 0 ? 0 : 1;
                    await WriteResponseAsync(stream, "200 OK", "application/xml",
                        $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bucket</Name><Prefix>{System.Security.SecurityElement.Escape(prefix)}</Prefix><KeyCount>{count}</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated>{contents}</ListBucketResult>",
                        cancellationToken);
                    return;
                }

                if (request.Method == "HEAD")
                {
                    await WriteAsync(stream, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", cancellationToken);
                    return;
                }

                await WriteResponseAsync(stream, "403 Forbidden", "application/xml",
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
                    cancellationToken);
                return;

            case StubBehavior.SlowOk:
                await Task.Delay(SlowDelay, cancellationToken);
                goto default;

            default:
                await DrainAsync(stream, contentLength - bodyStart, cancellationToken);
                var head = request.Method == "HEAD"
                    ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"stub\"\r\nConnection: close\r\n\r\n"
                    : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nETag: \"stub\"\r\nConnection: close\r\n\r\n";
                await WriteAsync(stream, head, cancellationToken);
                return;
        }
    }

    private static async Task<(RecordedRequest Request, long BodyBytesAlreadyRead)> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        int end;
        while ((end = IndexOfHeadEnd(buffer.AsSpan(0, filled))) < 0)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                throw new IOException("connection closed before the request head ended");
            }

            filled += read;
        }

        var lines = Encoding.ASCII.GetString(buffer, 0, end).Split("\r\n");
        var requestLine = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        return (new RecordedRequest(requestLine[0], requestLine[1], headers), filled - end - 4);
    }

    private static int IndexOfHeadEnd(ReadOnlySpan<byte> bytes) => bytes.IndexOf("\r\n\r\n"u8);

    private static async Task DrainAsync(NetworkStream stream, long count, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        while (count > 0)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken);
            if (read == 0)
            {
                return;
            }

            count -= read;
        }
    }

    private static Task WriteResponseAsync(NetworkStream stream, string status, string contentType, string body, CancellationToken cancellationToken) =>
        WriteAsync(stream,
            $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {Encoding.UTF8.GetByteCount(body).ToString(CultureInfo.InvariantCulture)}\r\nConnection: close\r\n\r\n{body}",
            cancellationToken);

    private static async Task WriteAsync(NetworkStream stream, string text, CancellationToken cancellationToken) =>
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
}
