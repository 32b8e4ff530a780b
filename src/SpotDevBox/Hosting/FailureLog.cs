using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Extensions.Logging;

namespace SpotDevBox.Hosting;

/// <summary>
/// A verb's failure in the log file, at Error: the one line the terminal showed, and for a failure at run time
/// (exit code 1) the exception with its stack trace, which the terminal does not show. A setup mistake (exit code
/// 2) is logged without its exception: the configuration binder's messages quote the value, which may be a secret.
/// </summary>
internal static partial class FailureLog
{
    /// <summary>The source of the event, which the console sink leaves out.</summary>
    public const string Category = "SpotDevBox.CommandFailed";

    /// <summary>
    /// Writes the failure through the host's logger, or, when the host was never built, a logger of the file alone.
    /// Returns the file written to; null when the file is off or could not be opened.
    /// </summary>
    public static string? Write(LogFile? file, IServiceProvider? services, string[] args, int exitCode, string message, Exception? exception)
    {
        if (file?.PathPattern is null)
        {
            return null;
        }

        var logged = exitCode == ExitCodes.InvalidInput ? null : exception;
        var command = string.Join(' ', args.TakeWhile(a => a.Length > 0 && a.All(c => char.IsAsciiLetterLower(c) || c == '-') && !a.StartsWith('-')).Take(2));
        if (services?.GetService<ILoggerFactory>() is { } factory)
        {
            LogCommandFailed(factory.CreateLogger(Category), logged, command, exitCode, message);
        }
        else
        {
            var configuration = new LoggerConfiguration();
            file.AddSink(configuration);
            using var logger = configuration.CreateLogger();
            using var standalone = new SerilogLoggerFactory(logger);
            LogCommandFailed(standalone.CreateLogger(Category), logged, command, exitCode, message);
        }

        return file.OpenedPath;
    }

    [LoggerMessage(EventId = 900, EventName = "CommandFailed", Level = LogLevel.Error, Message = "spotdevbox {Command} failed with exit code {ExitCode}: {Error}")]
    private static partial void LogCommandFailed(Microsoft.Extensions.Logging.ILogger logger, Exception? exception, string command, int exitCode, string error);
}
