using System.ComponentModel;
using Serilog.Core;
using Spectre.Console;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

[Description("List the repository's snapshots, oldest first.")]
internal sealed class SnapshotsCommand(RepositoryOpener opener, LoggingLevelSwitch consoleLevel) : RepositoryCommand<RepositorySettings>(consoleLevel)
{
    protected override async Task<int> RunAsync(RepositorySettings settings, CancellationToken cancellationToken)
    {
        var repository = await opener.OpenAsync(settings, cancellationToken);
        var snapshots = await repository.ListSnapshotsAsync(cancellationToken);
        if (settings.Json)
        {
            WriteJson(
                [.. snapshots.Select(s => new SnapshotOutput(
                    s.Id,
                    s.ShortId,
                    s.Manifest.Time,
                    s.Manifest.Hostname,
                    s.Manifest.Paths,
                    s.Manifest.Tags,
                    s.Manifest.Tree.ToHex(),
                    s.Manifest.Parent?.ToHex(),
                    s.Manifest.Partial,
                    s.Manifest.Summary))],
                CommandJson.Default.ListSnapshotOutput);
            return ExitCodes.Ok;
        }

        if (snapshots.Count == 0)
        {
            Console.Out.WriteLine($"no snapshots in {repository.Store.Location}");
            return ExitCodes.Ok;
        }

        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("ID").AddColumn("Time (UTC)").AddColumn("Host").AddColumn("Tags").AddColumn("Paths")
            .AddColumn(new TableColumn("Files").RightAligned()).AddColumn(new TableColumn("Size").RightAligned());
        foreach (var s in snapshots)
        {
            var m = s.Manifest;
            var files = m.Summary is null ? "" : (m.Summary.FilesNew + m.Summary.FilesChanged + m.Summary.FilesUnchanged).ToString(System.Globalization.CultureInfo.InvariantCulture);
            table.AddRow(
                Markup.Escape(s.ShortId + (m.Partial ? " (partial)" : "")),
                m.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(m.Hostname),
                Markup.Escape(string.Join(",", m.Tags)),
                Markup.Escape(string.Join("\n", m.Paths)),
                files,
                m.Summary is null ? "" : Terminal.Bytes(m.Summary.BytesTotal));
        }

        var stdout = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        stdout.Write(table);
        stdout.WriteLine(Terminal.Count(snapshots.Count, "snapshot"));
        return ExitCodes.Ok;
    }
}
