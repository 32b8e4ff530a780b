using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace SpotDevBox.Tests.Agent;

/// <summary>A loopback webhook receiver: records every POST (its JSON body) and answers with <see cref="Status"/>.</summary>
internal sealed class WebhookRecorder : IDisposable
{
    private readonly HttpListener _listener;
    private readonly ConcurrentQueue<(string ContentType, JsonElement Body)> _received = new();
    private readonly Task _loop;

    public WebhookRecorder()
    {
        // A port free a moment ago can be taken by a parallel test before the listener binds it: try another.
        for (var attempt = 1; ; attempt++)
        {
            Url = $"http://127.0.0.1:{FreePort()}/hook/";
            var listener = new HttpListener();
            listener.Prefixes.Add(Url);
            try
            {
                listener.Start();
                _listener = listener;
                break;
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                listener.Close();
            }
        }

        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

    public IReadOnlyList<(string ContentType, JsonElement Body)> Received => [.. _received];

    public void Dispose()
    {
        // Close alone (it stops too). Stop then Close removed the listener's endpoint twice: the managed HttpListener's
        // second removal looks the endpoint up again, binding the port anew, and failed with "Address already in use"
        // when a parallel test had taken the freed port in between (seen once in a whole run).
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
