using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

/// <summary>Answers every command with the same result and counts the calls.</summary>
public sealed class FakeCommandRunner(CommandResult result) : ICommandRunner
{
    public int Calls { get; private set; }

    public CommandResult Result { get; set; } = result;

    public Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Calls++;
        return Task.FromResult(Result);
    }
}
