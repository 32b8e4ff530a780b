using System.Formats.Tar;
using SpotDevBox.Builds;
using SpotDevBox.Tests.Cli;
using TestSupport;

namespace SpotDevBox.Tests.Builds;

/// <summary>
/// <see cref="AgentArchive.RuntimeOfAsync"/>: the runtime of an archive read from the ELF header of the spotdevbox at
/// its top (e_machine 62 is x86-64, 183 aarch64: the System V ABI), never from the file's name.
/// </summary>
public sealed class AgentArchiveTests : IDisposable
{
    private const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly TempDir _temp = new("spotdevbox-archive-");

    [Theory]
    [InlineData(AgentBuildFiles.X64, "linux-x64")]
    [InlineData(AgentBuildFiles.Arm64, "linux-arm64")]
    public async Task RuntimeOfAsync_ExecutableForAMachineBoxesRun_ThatRuntime(ushort machine, string expected)
    {
        // Named as the other runtime's release archive: the name says nothing.
        var archive = AgentBuildFiles.Build(_temp.Sub(expected == "linux-x64" ? "spotdevbox-1.0.0-linux-arm64.tar.gz" : "spotdevbox-1.0.0-linux-x64.tar.gz"), machine);

        Assert.Equal(expected, await AgentArchive.RuntimeOfAsync(archive, CancellationToken.None));
    }

    [Theory]
    [InlineData((ushort)40, "ELF machine 40")]   // EM_ARM: 32-bit ARM
    [InlineData((ushort)243, "ELF machine 243")] // EM_RISCV
    public async Task RuntimeOfAsync_ExecutableForAnotherMachine_RefusedNamingTheFileAndTheMachine(ushort machine, string named)
    {
        var archive = AgentBuildFiles.Build(_temp.Sub("other.tar.gz"), machine);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => AgentArchive.RuntimeOfAsync(archive, CancellationToken.None, $"--agent-archive {archive}"));

        Assert.Equal($"--agent-archive {archive}: 'spotdevbox' is built for {named}, neither x86-64 (linux-x64) nor aarch64 (linux-arm64); boxes run only those", e.Message);
    }

    [Fact]
    public async Task RuntimeOfAsync_NoSpotdevboxAtTheTop_RefusedNamingTheFile()
    {
        var archive = AgentBuildFiles.Write(_temp.Sub("nested.tar.gz"),
            ("./publish/", TarEntryType.Directory, Executable, null), ("./publish/spotdevbox", TarEntryType.RegularFile, Executable, AgentBuildFiles.Elf(AgentBuildFiles.X64)));

        var e = await Assert.ThrowsAsync<ArgumentException>(() => AgentArchive.RuntimeOfAsync(archive, CancellationToken.None));

        Assert.Equal($"{archive}: no 'spotdevbox' file at the top of the archive, so its runtime cannot be told", e.Message);
    }

    [Fact]
    public async Task RuntimeOfAsync_SpotdevboxNotElf_RefusedNamingTheFile()
    {
        var archive = AgentBuildFiles.Write(_temp.Sub("script.tar.gz"), ("./spotdevbox", TarEntryType.RegularFile, Executable, "#!/bin/sh\nexit 0\n"u8.ToArray()));

        var e = await Assert.ThrowsAsync<ArgumentException>(() => AgentArchive.RuntimeOfAsync(archive, CancellationToken.None));

        Assert.Equal($"{archive}: './spotdevbox' is not a 64-bit Linux (ELF) executable, so its runtime cannot be told", e.Message);
    }

    [Fact]
    public async Task RuntimeOfAsync_NotAnArchiveOrMissing_RefusedNamingTheFile()
    {
        var text = _temp.Sub("notes.txt");
        await File.WriteAllTextAsync(text, "not an archive");

        var notGzip = await Assert.ThrowsAsync<ArgumentException>(() => AgentArchive.RuntimeOfAsync(text, CancellationToken.None));
        var missing = await Assert.ThrowsAsync<ArgumentException>(() => AgentArchive.RuntimeOfAsync(_temp.Sub("missing.tar.gz"), CancellationToken.None));

        Assert.StartsWith($"{text}: not a gzip file", notGzip.Message, StringComparison.Ordinal);
        Assert.Equal($"{_temp.Sub("missing.tar.gz")}: there is no such file", missing.Message);
    }

    public void Dispose() => _temp.Dispose();
}
