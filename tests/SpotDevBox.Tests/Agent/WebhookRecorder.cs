using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace SpotDevBox.Tests.Agent;

/// <summary>A loopback webhook receiver: records every POST (its JSON body) and answers with <see cref="Status"/>.</summary>
internal sealed class WebhookRecorder : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<(string ContentType, JsonElement Body)> _received = new();
    private readonly Task _loop;

    public WebhookRecorder()
    {
        var port = FreePort();
        Url = $"http://127.0.0.1:{port}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

    public IReadOnlyList<(string ContentType, JsonElement Body)> Received => [.. _received];

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _ = _loop.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using (var document = await JsonDocument.ParseAsync(context.Request.InputStream))
            {
                _received.Enqueue((context.Request.ContentType ?? "", document.RootElement.Clone()));
            }

            context.Response.StatusCode = (int)Status;
            context.Response.Close();
        }
    }

    /// <summary>A loopback port nothing listens on (free a moment ago).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
