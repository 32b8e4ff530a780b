using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Tests.Repositories;

/// <summary>The password sources with real files and real child processes; the terminal prompt behind its interface.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PasswordSourceTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("spotdevbox-password-");
    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);
    private readonly FakePrompt _prompt = new();

    public void Dispose() => _dir.Delete(recursive: true);

    private PasswordSource Source() => new(name => _environment.GetValueOrDefault(name), _prompt);

    private string File600(string name, string content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    [Theory]
    [InlineData("hunter2\n", "hunter2")]
    [InlineData("hunter2\r\nsecond line\n", "hunter2")]
    [InlineData("  spaced out  ", "  spaced out  ")]
    public async Task ReadAsync_PasswordFile_FirstLineWithoutItsNewline(string content, string expected)
    {
        var path = File600("password", content);

        Assert.Equal(expected, await Source().ReadAsync(path, null, CancellationToken.None));
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, "0640")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.OtherRead, "0404")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, "0644")]
    public async Task ReadAsync_PasswordFileOpenToOthers_RefusedNamingTheMode(UnixFileMode mode, string octal)
    {
        var path = File600("password", "hunter2\n", mode);

        var e = await Assert.ThrowsAsync<PasswordSourceException>(() => Source().ReadAsync(path, null, CancellationToken.None));

        Assert.Equal($"the password file {path} is open to group or others (mode {octal}): chmod 600 it", e.Message);
        Assert.Equal(2, e.ExitCode);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_PasswordFileMissing_Refused()
    {
        var path = Path.Combine(_dir.FullName, "nope");

        var e = await Assert.ThrowsAsync<PasswordSourceException>(() => Source().ReadAsync(path, null, CancellationToken.None));

        Assert.Equal($"the password file {path} does not exist: give the path of a file holding the password", e.Message);
    }

    [Fact]
    public async Task ReadAsync_PasswordFileEmptyFirstLine_Refused()
    {
        var path = File600("password", "\nhunter2\n");

        var e = await Assert.ThrowsAsync<PasswordSourceException>(() => Source().ReadAsync(path, null, CancellationToken.None));

        Assert.Equal($"the password file {path} has no password on its first line", e.Message);
    }

    [Fact]
    public async Task ReadAsync_FileAndCommandBoth_Refused()
    {
        var e = await Assert.ThrowsAsync<PasswordSourceException>(() => Source().ReadAsync("a", "b", CancellationToken.None));

        Assert.Equal(("give --password-file or --password-command, not both", 2), (e.Message, e.ExitCode));
    }

    [Fact]
    public async Task ReadAsync_PasswordCommand_FirstLineOfItsStdout()
    {
        Assert.Equal("two words", await Source().ReadAsync(null, "printf '%s\\nsecond\\n' 'two words'", CancellationToken.None));
    }

    /// <summary>No shell: $HOME reaches printf as it is written, and a pipe is just an argument.</summary>
    [Fact]
    public async Task ReadAsync_PasswordCommand_RunsWithoutAShell()
    {
        Assert.Equal("$HOME|x", await Source().ReadAsync(null, "printf %s \"\\$HOME\"'|x'", CancellationToken.None));
        Assert.Equal("$HOME", await Source().ReadAsync(null, "printf %s $HOME", CancellationToken.None));
    }

    [Fact]
    public async Task ReadAsync_PasswordCommandFails_RefusedWithItsExitCodeNotItsOutput()
    {
        var e = await Assert.ThrowsAsync<PasswordSourceException>(() =>
            Source().ReadAsync(null, "sh -c 'echo s3cret-output; exit 3'", CancellationToken.None));

        Assert.Equal("--password-command exited with code 3; its output is not shown: run it yourself to see why", e.Message);
        Assert.Equal(1, e.ExitCode);
    }

    [Fact]
    public async Task ReadAsync_PasswordCommandPrintsNothing_Refused()
    {
        var e = await Assert.ThrowsAsync<PasswordSourceException>(() => Source().ReadAsync(null, "true", CancellationToken.None));

        Assert.Equal("--password-command printed no password on its first line", e.Message);
    }

    [Fact]
    public async Task ReadAsync_PasswordCommandMissingProgram_RefusedNamingIt()
    {
        var e = await Assert.ThrowsAsync<PasswordSourceException>(() =>
            Source().ReadAsync(null, "spotdevbox-no-such-program --flag", CancellationToken.None));

        Assert.Equal(("--password-command could not start spotdevbox-no-such-program: check the program exists and may be run", 2), (e.Message, e.ExitCode));
    }

    [Theory]
    [InlineData("printf 'unclosed")]
    [InlineData("printf \"unclosed")]
    [InlineData("   ")]
    public async Task ReadAsync_PasswordCommandUnparsable_Refused(string command)
    {
        var e = await Assert.ThrowsAsync<PasswordSourceException>(() => Source().ReadAsync(null, command, CancellationToken.None));

        Assert.Equal("--password-command is empty or has an unclosed quote: give a program and its arguments", e.Message);
    }

    [Fact]
    public async Task ReadAsync_EnvironmentOnly_ItsValue()
    {
        _environment[PasswordSource.EnvironmentVariable] = "from-env";

        Assert.Equal("from-env", await Source().ReadAsync(null, null, CancellationToken.None));
    }

    [Fact]
    public async Task ReadAsync_FileAndEnvironment_TheFileWins()
    {
        _environment[PasswordSource.EnvironmentVariable] = "from-env";
        var path = File600("password", "from-file\n");

        Assert.Equal("from-file", await Source().ReadAsync(path, null, CancellationToken.None));
    }

    [Fact]
    public async Task ReadAsync_NothingGivenAndStdinNotATerminal_RefusedWithoutPrompting()
    {
        _prompt.IsTerminal = false;

        var e = await Assert.ThrowsAsync<PasswordSourceException>(() => Source().ReadAsync(null, null, CancellationToken.None));

        Assert.Equal(
            "no repository password: set SPOTDEVBOX_PASSWORD, or give --password-file or --password-command (stdin is not a terminal, so there is no prompt)",
            e.Message);
        Assert.Empty(_prompt.Prompts);
    }

    [Fact]
    public async Task ReadAsync_NothingGivenOnATerminal_Prompts()
    {
        _prompt.IsTerminal = true;

        Assert.Equal("typed", await Source().ReadAsync(null, null, CancellationToken.None));
        Assert.Equal(["repository password: "], _prompt.Prompts);
    }

    [Theory]
    [InlineData("a b  c", new[] { "a", "b", "c" })]
    [InlineData("pass show 'spot dev/box'", new[] { "pass", "show", "spot dev/box" })]
    [InlineData("echo \"a \\\"q\\\" \\\\ \\n\"", new[] { "echo", "a \"q\" \\ \\n" })]
    [InlineData("a\\ b ''", new[] { "a b", "" })]
    public void Split_QuotingRules_Words(string line, string[] expected) =>
        Assert.Equal(expected, PasswordSource.Split(line));

    private sealed class FakePrompt : IPasswordPrompt
    {
        public bool IsTerminal { get; set; }

        public List<string> Prompts { get; } = [];

        public string Read(string prompt)
        {
            Prompts.Add(prompt);
            return "typed";
        }
    }
}
