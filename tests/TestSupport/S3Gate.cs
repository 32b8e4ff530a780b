using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace TestSupport;

/// <summary>
/// One request that reached the gate: its method, its path (bucket and key, path-style), its query, what it answered,
/// and for a multi-object delete (POST ?delete) the keys its body names.
/// </summary>
public sealed record S3GateRequest(string Method, string Path, string Query, int Status, IReadOnlyList<string> DeletedKeys);

/// <summary>
/// A proxy in front of the S3 peer that records every request and answers those a rule refuses with S3's own
/// 403 AccessDenied error document, as real S3 does for a request the caller's policy does not allow. The S3 peers
/// here do not enforce IAM; this is how a test shows what the program does when AWS says no, through the real
/// SDK and the real error mapping.
/// </summary>
public sealed class S3Gate : IAsyncDisposable
{
    private readonly HttpClient _forward = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None });
    private readonly ConcurrentQueue<S3GateRequest> _requests = new();
    private readonly Uri _peer;
    private WebApplication? _app;

    private S3Gate(Uri peer) => _peer = peer;

    /// <summary>The gate's endpoint, to give the program instead of the peer's.</summary>
    public string Endpoint { get; private set; } = "";

    /// <summary>Refuse (403 AccessDenied) the requests this returns true for: (method, path-style path).</summary>
    public Func<string, string, bool> Deny { get; set; } = (_, _) => false;

    /// <summary>Refuse as <see cref="Deny"/> does, seeing the query too (method, path, query): bucket-level calls share the bucket's path.</summary>
    public Func<string, string, string, bool> DenyRequest { get; set; } = (_, _, _) => false;

    public IReadOnlyList<S3GateRequest> Requests => [.. _requests];

    public static async Task<S3Gate> StartAsync(string peerEndpoint)
    {
        var gate = new S3Gate(new Uri(peerEndpoint.TrimEnd('/') + "/"));
        var (app, url) = await LoopbackHttpServer.StartAsync(gate.HandleAsync, CancellationToken.None);
        gate._app = app;
        gate.Endpoint = url.ToString().TrimEnd('/');
        return gate;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = Uri.UnescapeDataString(request.Path.Value ?? "/");
        if (Deny(request.Method, path) || DenyRequest(request.Method, path, request.QueryString.Value ?? ""))
        {
            _requests.Enqueue(new S3GateRequest(request.Method, path, request.QueryString.Value ?? "", 403, []));
            context.Response.StatusCode = 403;
            context.Response.ContentType = "application/xml";
            await context.Response.WriteAsync(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>S3GATE</RequestId></Error>",
                context.RequestAborted);
            return;
        }

        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, context.RequestAborted);
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_peer, (request.Path.Value ?? "/").TrimStart('/') + request.QueryString.Value));
        forward.Content = new ByteArrayContent(body.ToArray());
        foreach (var (name, values) in request.Headers)
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!forward.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                forward.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        forward.Headers.Host = request.Host.Value;
        using var answer = await _forward.SendAsync(forward, HttpCompletionOption.ResponseContentRead, context.RequestAborted);
        var query = request.QueryString.Value ?? "";
        IReadOnlyList<string> deleted = request.Method == "POST" && request.Query.ContainsKey("delete")
            ? [.. System.Text.RegularExpressions.Regex.Matches(System.Text.Encoding.UTF8.GetString(body.ToArray()), "<Key>(.*?)</Key>", System.Text.RegularExpressions.RegexOptions.Singleline).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value))]
            : [];
        _requests.Enqueue(new S3GateRequest(request.Method, path, query, (int)answer.StatusCode, deleted));
        context.Response.StatusCode = (int)answer.StatusCode;
        foreach (var (name, values) in answer.Headers.Concat(answer.Content.Headers))
        {
            if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        var content = await answer.Content.ReadAsByteArrayAsync(context.RequestAborted);
        if (request.Method != "HEAD" && content.Length > 0)
        {
            await context.Response.Body.WriteAsync(content, context.RequestAborted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _forward.Dispose();
    }
}
