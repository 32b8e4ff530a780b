using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Amazon.S3;
using Amazon.S3.Model;
using Xunit;

namespace TestSupport;

/// <summary>
/// Runs moto (tests/peers/moto: getmoto/moto 5.2.2, an independent implementation of the AWS APIs) for the tests
/// of one assembly, on a free loopback port, and stops it at the end. Used where fauxqs and the project's own
/// EC2 simulator cannot answer for AWS: S3 conditional writes (fauxqs ignores If-Match and If-None-Match) and
/// EC2 launches seen by a second implementation. A test assembly declares
/// <c>[CollectionDefinition("moto")] public sealed class MotoCollection : ICollectionFixture&lt;MotoFixture&gt;;</c>.
/// Tests of the collection run one after another and call <see cref="ResetAsync"/> first: moto keeps one state.
/// </summary>
public sealed class MotoFixture : IAsyncLifetime, IDisposable
{
    public const string Region = S3PeerFixture.Region;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    private string? _work;
    private int? _pid;
    private bool _disposed;

    public string Endpoint { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var script = Path.Combine(S3PeerFixture.RepositoryRoot, "tests", "peers", "moto", "start-moto.sh");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"the moto test peer is missing ({script}); it is part of the repository");
        }

        _work = Directory.CreateTempSubdirectory("spotdevbox-moto-").FullName;
        for (var attempt = 1; ; attempt++)
        {
            var port = FreeTcpPort();
            var start = new ProcessStartInfo("bash", [script, port.ToString(CultureInfo.InvariantCulture), _work])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
            using var timeout = new CancellationTokenSource(StartTimeout);
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            if (process.ExitCode == 0 && int.TryParse((await stdout).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                _pid = pid;
                Endpoint = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
                return;
            }

            var log = Path.Combine(_work, "moto.log");
            var tail = File.Exists(log) ? string.Join('\n', (await File.ReadAllLinesAsync(log)).TakeLast(20)) : "";
            if (attempt == 3 || !tail.Contains("Address already in use", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"moto did not start (exit {process.ExitCode}): {await stderr}\n{tail}");
            }
        }
    }

    /// <summary>Forgets every bucket, object and instance: each test starts from an empty account.</summary>
    public async Task ResetAsync()
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(new Uri(Endpoint + "/moto-api/reset"), null);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>moto's whole state as JSON (<c>/moto-api/data.json</c>): what the tests count instances in.</summary>
    public async Task<string> DataAsync()
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(new Uri(Endpoint + "/moto-api/data.json"));
    }

    public AmazonS3Client CreateS3Client() =>
        new(S3PeerFixture.Credentials, new AmazonS3Config { ServiceURL = Endpoint, ForcePathStyle = true, AuthenticationRegion = Region });

    public async Task CreateBucketAsync(string name)
    {
        using var client = CreateS3Client();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = name });
    }

    public Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_pid is { } pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        if (_work is not null && Directory.Exists(_work))
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
