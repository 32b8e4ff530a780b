using System.Diagnostics;
using System.Text;
using System.Text.Json;
using TestSupport;

namespace SpotDevBox.Tests;

/// <summary>
/// Runs the built CLI (spotdevbox.dll, copied next to the tests by the project reference) as a child
/// process, as a user or a script would: its own exit code, stdout and stderr, and an environment that
/// holds nothing of the machine's SPOTDEVBOX_*/AWS_*/OTEL_* settings, caches or log folders.
/// With SPOTDEVBOX_TEST_BINARY set to a published executable (the native AOT build of
/// scripts/publish-agent, or any self-contained one), the same tests run that executable instead.
/// </summary>
internal sealed class SpotDevBoxProcess
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    private readonly Dictionary<string, string?> _environment = new(StringComparer.Ordinal);
    private string[] _wrapper = [];
    private string? _workingDirectory;

    /// <param name="stateRoot">Folder for the child's XDG cache and state folders.</param>
    /// <param name="peer">The S3 peer whose (any) credentials and region the child gets, if any.</param>
    public SpotDevBoxProcess(string stateRoot, S3PeerFixture? peer = null)
    {
        _environment["XDG_CACHE_HOME"] = Path.Combine(stateRoot, "xdg-cache");
        _environment["XDG_STATE_HOME"] = Path.Combine(stateRoot, "xdg-state");
        // Nor the user's configuration file (~/.config/spotdevbox/spotdevbox.json).
        _environment["XDG_CONFIG_HOME"] = Path.Combine(stateRoot, "xdg-config");
        _environment["SPOTDEVBOX_Logging__File"] = "off";
        // The child must not find a profile, a config file or instance metadata of this machine.
        _environment["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(stateRoot, "no-aws", "credentials");
        _environment["AWS_CONFIG_FILE"] = Path.Combine(stateRoot, "no-aws", "config");
        _environment["AWS_EC2_METADATA_DISABLED"] = "true";
        // The JIT build's start-up without tiered PGO's instrumentation: some 15% less CPU per child in a suite that
        // starts over a thousand of them on two cores (no effect on the native build, nor on what the child does).
        _environment["DOTNET_TieredPGO"] = "0";
        // Repositories are encrypted: the tests' passphrase, and new keys derived at the cheapest accepted cost.
        foreach (var (name, value) in TestKeys.Environment)
        {
            _environment[name] = value;
        }
        if (peer is not null)
        {
            _environment["AWS_ACCESS_KEY_ID"] = S3PeerFixture.AccessKey;
            _environment["AWS_SECRET_ACCESS_KEY"] = S3PeerFixture.SecretKey;
            _environment["AWS_REGION"] = S3PeerFixture.Region;
        }
    }

    /// <summary>
    /// The executable in its own build output, with its own dependency set: the copy in the test folder
    /// would resolve assemblies against this test's (which includes ASP.NET Core for the simulators).
    /// </summary>
    public static string Dll { get; } = FindDll();

    /// <summary>The executable named by SPOTDEVBOX_TEST_BINARY, if any: then it runs instead of <see cref="Dll"/>.</summary>
    public static string? Binary { get; } = FindBinary();

    private static string? FindBinary()
    {
        var binary = Environment.GetEnvironmentVariable("SPOTDEVBOX_TEST_BINARY");
        if (string.IsNullOrEmpty(binary))
        {
            return null;
        }

        var full = Path.GetFullPath(binary);
        return File.Exists(full)
            ? full
            : throw new FileNotFoundException($"SPOTDEVBOX_TEST_BINARY names '{binary}', which does not exist", full);
    }

    internal static string FindDll()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testOutput.Parent!.Name;
        var own = Path.Combine(S3PeerFixture.RepositoryRoot, "src", "SpotDevBox", "bin", configuration, testOutput.Name, "spotdevbox.dll");
        return File.Exists(own) ? own : Path.Combine(AppContext.BaseDirectory, "spotdevbox.dll");
    }

    /// <summary>Sets (or, with null, removes) a variable for every later run.</summary>
    public SpotDevBoxProcess Set(string name, string? value)
    {
        _environment[name] = value;
        return this;
    }

    /// <summary>
    /// Runs every later child under <paramref name="wrapper"/> (a program and its arguments, before the dotnet host or
    /// the binary), e.g. <c>faketime -f "@2027-01-04 10:00:00"</c>.
    /// </summary>
    public SpotDevBoxProcess Under(params string[] wrapper)
    {
        _wrapper = wrapper;
        return this;
    }

    /// <summary>Runs every later child in <paramref name="directory"/> (relative paths in its arguments start there).</summary>
    public SpotDevBoxProcess In(string directory)
    {
        _workingDirectory = directory;
        return this;
    }

    public RunningCli Start(params string[] args) => Start(args, extraEnvironment: null);

    public RunningCli Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? extraEnvironment)
    {
        ArgumentNullException.ThrowIfNull(args);
        var program = Binary ?? DotnetHost();
        var start = new ProcessStartInfo(_wrapper.Length > 0 ? _wrapper[0] : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = _workingDirectory ?? "",
        };
        if (_wrapper.Length > 0)
        {
            foreach (var arg in _wrapper.Skip(1).Append(program))
            {
                start.ArgumentList.Add(arg);
            }
        }

        if (Binary is null)
        {
            start.ArgumentList.Add(Dll);
        }

        var argumentsSkipped = start.ArgumentList.Count;

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("SPOTDEVBOX_", StringComparison.Ordinal) || k.StartsWith("AWS_", StringComparison.Ordinal) || k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in _environment.Concat(extraEnvironment ?? new Dictionary<string, string?>()))
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        return new RunningCli(start, argumentsSkipped);
    }

    public async Task<CliResult> RunAsync(params string[] args)
    {
        using var running = Start(args);
        return await running.WaitAsync(DefaultTimeout);
    }

    public async Task<CliResult> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?> extraEnvironment)
    {
        using var running = Start(args, extraEnvironment);
        return await running.WaitAsync(DefaultTimeout);
    }

    /// <summary>The dotnet host the tests run on (the SDK sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }
}

/// <summary>A started CLI process: its output as it arrives, and a way to SIGKILL it.</summary>
internal sealed class RunningCli : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<(string Text, TaskCompletionSource<string> Seen)> _waiters = [];
    private readonly long _started;
    private int _disposed;

    private readonly int _argumentsSkipped;

    /// <param name="argumentsSkipped">Leading arguments that are not the verb's (the dll), left out of messages.</param>
    public RunningCli(ProcessStartInfo start, int argumentsSkipped = 1)
    {
        _argumentsSkipped = argumentsSkipped;
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stdout)
                {
                    _stdout.Append(e.Data).Append('\n');
                }
            }
        };
        _process.ErrorDataReceived += (_, e) => OnStderrLine(e.Data);
        _started = Stopwatch.GetTimestamp();
        _process.Start();
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Time since the process was started.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    public bool HasExited => _process.HasExited;

    public int ProcessId => _process.Id;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Completes with the first stderr line that contains <paramref name="text"/>.</summary>
    public Task<string> StderrLineAsync(string text)
    {
        lock (_stderr)
        {
            var earlier = _stderr.ToString().Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (earlier is not null)
            {
                return Task.FromResult(earlier);
            }

            var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((text, seen));
            return seen.Task;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; false if it is still running.</summary>
    public async Task<bool> TryWaitForExitAsync(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return _process.HasExited;
        }

        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM, as systemctl stop sends it: the child may clean up (the agent takes its final backup).</summary>
    public void Terminate()
    {
        if (!_process.HasExited && Mono.Unix.Native.Syscall.kill(_process.Id, Mono.Unix.Native.Signum.SIGTERM) != 0 && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed: {Mono.Unix.Native.Stdlib.GetLastError()}");
        }
    }

    /// <summary>SIGKILL on Linux: no handler, no finally block, no flush runs in the child.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
            // It exited on its own just before; the exit code tells the caller.
        }
    }

    public async Task<CliResult> WaitAsync(TimeSpan timeout)
    {
        if (!await TryWaitForExitAsync(timeout))
        {
            Kill();
            await _process.WaitForExitAsync();
            throw new TimeoutException($"spotdevbox {string.Join(' ', _process.StartInfo.ArgumentList.Skip(_argumentsSkipped))} did not exit within {timeout}; stderr:\n{Stderr}");
        }

        // The parameterless wait also drains the asynchronous stdout/stderr readers.
        await _process.WaitForExitAsync();
        string stdout;
        lock (_stdout)
        {
            stdout = _stdout.ToString();
        }

        return new CliResult(_process.ExitCode, stdout, Stderr, Elapsed);
    }

    public void Dispose()
    {
        // A test and its harness may both dispose a child they share.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (!_process.HasExited)
        {
            Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void OnStderrLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource<string>> signalled;
        lock (_stderr)
        {
            _stderr.Append(line).Append('\n');
            signalled = [.. _waiters.Where(w => line.Contains(w.Text, StringComparison.Ordinal)).Select(w => w.Seen)];
            _waiters.RemoveAll(w => signalled.Contains(w.Seen));
        }

        foreach (var s in signalled)
        {
            s.TrySetResult(line);
        }
    }
}

/// <summary>What one finished CLI run left behind.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    /// <summary>SIGKILL: 128 + 9, as .NET reports a child killed by a signal.</summary>
    public const int KilledBySigkill = 137;

    public IReadOnlyList<string> StdoutLines => [.. Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))];

    public IReadOnlyList<string> StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Stdout);
        return document.RootElement.Clone();
    }

    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:0.0} s\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}
