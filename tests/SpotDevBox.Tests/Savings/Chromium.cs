using System.Diagnostics;
using System.Text;
using TestSupport;

namespace SpotDevBox.Tests.Savings;

/// <summary>
/// Debian's chromium, headless, one process per call with its own empty profile and a timeout. scripts/test installs
/// it; when it is missing the test fails with the reason (scripts/test passes it on in SPOTDEVBOX_TEST_CHROMIUM_MISSING).
/// </summary>
internal static class Chromium
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string Executable()
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "chromium"))
            .Append("/usr/bin/chromium")
            .FirstOrDefault(File.Exists);
        Assert.True(
            found is not null,
            "Chromium is not installed: "
            + (Environment.GetEnvironmentVariable("SPOTDEVBOX_TEST_CHROMIUM_MISSING")
               ?? "run scripts/test, which installs Debian's chromium with apt-get (as root)"));
        return found!;
    }

    /// <summary>The DOM after the page loaded, serialized (<c>--dump-dom</c>).</summary>
    public static async Task<string> DumpDomAsync(string page)
    {
        var (stdout, _) = await RunAsync("--dump-dom", new Uri(page).AbsoluteUri);
        return stdout;
    }

    /// <summary>The DOM after the page loaded in a window of the given size (for a test's own copy of a page that measures its layout).</summary>
    public static async Task<string> DumpDomAsync(string page, int width, int height)
    {
        var (stdout, _) = await RunAsync($"--window-size={width},{height}", "--dump-dom", new Uri(page).AbsoluteUri);
        return stdout;
    }

    /// <summary>A PNG of the page as a window of the given size shows it.</summary>
    public static async Task<byte[]> ScreenshotAsync(string page, int width, int height)
    {
        using var temp = new TempDir("spotdevbox-chromium-shot-");
        var png = temp.Sub("page.png");
        var (_, stderr) = await RunAsync($"--window-size={width},{height}", "--hide-scrollbars", $"--screenshot={png}", new Uri(page).AbsoluteUri);
        Assert.True(File.Exists(png), "chromium wrote no screenshot; stderr:\n" + stderr);
        return await File.ReadAllBytesAsync(png);
    }

    private static async Task<(string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var profile = new TempDir("spotdevbox-chromium-");
        var start = new ProcessStartInfo(Executable())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        // As test-peers.md gives them: --no-sandbox because tests run as root, nothing that talks to the network.
        foreach (var arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.Path}",
        }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"chromium {string.Join(' ', args)} did not finish within {Timeout}");
        }

        Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}; stderr:\n{await stderr}");
        return (await stdout, await stderr);
    }
}
