using System.Text.Json;
using System.Text.Json.Serialization;

namespace SpotDevBox.Core.Idle;

/// <summary>
/// The local lease written by "spotdevbox keepalive" on the box, as a small JSON document
/// ({"until": "...", "setBy": "...", "note": "..."}). Written to a temporary file and renamed over the old
/// one, so a reader sees the old lease or the new one, never half of one.
/// </summary>
public sealed class LeaseFile(string path) : ILeaseSource
{
    public string Path { get; } = path;

    /// <returns>The lease in the file, or null when there is no file.</returns>
    /// <exception cref="LeaseUnreadableException">The file exists but is not a lease.</exception>
    public Lease? Read()
    {
        string text;
        try
        {
            text = File.ReadAllText(Path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LeaseUnreadableException($"lease file {Path} cannot be read: {e.Message}", e);
        }

        LeaseDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(text, LeaseJsonContext.Default.LeaseDocument);
        }
        catch (JsonException e)
        {
            throw new LeaseUnreadableException($"lease file {Path} is not valid JSON: {e.Message}", e);
        }

        if (document?.Until is not { } until)
        {
            throw new LeaseUnreadableException($"lease file {Path} has no \"until\" time");
        }

        return new Lease(until, NullIfEmpty(document.SetBy), NullIfEmpty(document.Note));
    }

    public ValueTask<Lease?> GetLeaseAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Read());

    public void Write(Lease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        Directory.CreateDirectory(directory);
        var temporary = System.IO.Path.Join(directory, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                JsonSerializer.Serialize(stream, new LeaseDocument(lease.Until, lease.SetBy, lease.Note), LeaseJsonContext.Default.LeaseDocument);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, Path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <returns>True when there was a lease file to remove.</returns>
    public bool Cancel()
    {
        if (!File.Exists(Path))
        {
            return false;
        }

        File.Delete(Path);
        return true;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

internal sealed record LeaseDocument(DateTimeOffset? Until, string? SetBy, string? Note);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LeaseDocument))]
internal sealed partial class LeaseJsonContext : JsonSerializerContext;
