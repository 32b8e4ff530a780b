using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using SpotDevBox.Hosting;

namespace SpotDevBox.Deploy;

/// <summary>
/// A configuration file that a verb edits (setup, box add, box remove): read with comments and trailing commas
/// allowed (a missing file is an empty object), edited as <see cref="JsonNode"/>s (no reflection: the build is
/// native AOT), and saved atomically. Keys are matched ignoring case, as the configuration reads them, and an
/// existing key keeps its spelling. Comments do not survive a rewrite: the first rewrite of a file that has
/// any keeps the original as FILE.bak and says so.
/// </summary>
internal sealed class ConfigurationFileEditor
{
    private static readonly JsonDocumentOptions ReadOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private readonly JsonObject _original;
    private readonly bool _hadComments;

    private ConfigurationFileEditor(string path, bool exists, JsonObject root, bool hadComments)
    {
        FilePath = path;
        Exists = exists;
        Root = root;
        _original = (JsonObject)root.DeepClone();
        _hadComments = hadComments;
    }

    /// <summary>The file's full path.</summary>
    public string FilePath { get; }

    /// <summary>Whether the file was there when it was loaded.</summary>
    public bool Exists { get; }

    /// <summary>The whole file, to edit.</summary>
    public JsonObject Root { get; }

    /// <summary>Whether <see cref="Root"/> differs from what was loaded.</summary>
    public bool Changed => !JsonNode.DeepEquals(Root, _original);

    /// <summary>Reads <paramref name="path"/>; a missing file is an empty object. Not JSON, or not an object: exit 2 naming the file.</summary>
    public static ConfigurationFileEditor Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new InvalidConfigurationException($"the configuration file {full} is a folder: name a file");
        }

        if (!File.Exists(full))
        {
            return new ConfigurationFileEditor(full, exists: false, [], hadComments: false);
        }

        var bytes = File.ReadAllBytes(full);
        if (bytes.AsSpan().StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }

        JsonNode? node;
        try
        {
            node = bytes.Length == 0 || Encoding.UTF8.GetString(bytes).Trim().Length == 0 ? new JsonObject() : JsonNode.Parse(bytes, documentOptions: ReadOptions);
            // An object's properties are read when first used: a name given twice must fail here, not in an edit.
            Materialize(node);
        }
        catch (JsonException e)
        {
            // The reader's message may quote the text (a value, maybe a secret): only its position is shown.
            throw new InvalidConfigurationException(
                $"the configuration file {full} is not valid JSON at line {(e.LineNumber ?? 0) + 1}: fix it (or move it away) and run again");
        }
        catch (ArgumentException)
        {
            throw new InvalidConfigurationException($"the configuration file {full} names one setting twice in an object: keep one and run again");
        }

        if (node is not JsonObject root)
        {
            throw new InvalidConfigurationException($"the configuration file {full} must hold a JSON object of sections ({{ \"Controller\": {{ ... }} }})");
        }

        return new ConfigurationFileEditor(full, exists: true, root, HasComments(bytes));
    }

    /// <summary>The node at <paramref name="path"/> (keys ignoring case), or null.</summary>
    public JsonNode? Get(params string[] path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonNode? node = Root;
        foreach (var key in path)
        {
            if (node is not JsonObject o || Key(o, key) is not { } found)
            {
                return null;
            }

            node = o[found];
        }

        return node;
    }

    /// <summary>Puts <paramref name="value"/> at <paramref name="path"/>, making the objects on the way; a non-object on the way is replaced.</summary>
    public void Set(IReadOnlyList<string> path, JsonNode? value)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfZero(path.Count);
        var parent = Root;
        foreach (var key in path.Take(path.Count - 1))
        {
            var found = Key(parent, key);
            if (found is not null && parent[found] is JsonObject child)
            {
                parent = child;
                continue;
            }

            var made = new JsonObject();
            parent[found ?? key] = made;
            parent = made;
        }

        var last = path[^1];
        parent[Key(parent, last) ?? last] = value;
    }

    /// <summary>Removes the node at <paramref name="path"/>; false when there was none.</summary>
    public bool Remove(IReadOnlyList<string> path)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfZero(path.Count);
        if (Get([.. path.Take(path.Count - 1)]) is not JsonObject parent || Key(parent, path[^1]) is not { } key)
        {
            return false;
        }

        return parent.Remove(key);
    }

    /// <summary>The file's text as <see cref="Save"/> writes it.</summary>
    public string Render() => Render(Root);

    /// <summary>
    /// Writes the file when <see cref="Changed"/> (false: nothing written): a temporary file in the same folder,
    /// flushed to disk, then renamed over it. A new folder is made 0700 and a new file 0600 (on Unix); an existing
    /// file keeps its mode. A file that had comments is first copied to FILE.bak, said on <paramref name="notices"/>.
    /// </summary>
    public bool Save(TextWriter notices)
    {
        ArgumentNullException.ThrowIfNull(notices);
        if (!Changed && Exists)
        {
            return false;
        }

        var folder = Path.GetDirectoryName(FilePath)!;
        if (!Directory.Exists(folder))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(folder);
            }
            else
            {
                Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        if (_hadComments && File.Exists(FilePath))
        {
            var backup = FilePath + ".bak";
            File.Copy(FilePath, backup, overwrite: true);
            notices.WriteLine($"{FilePath} had comments, which a rewrite does not keep: the file as it was is in {backup}");
        }

        var mode = !OperatingSystem.IsWindows() && File.Exists(FilePath)
            ? File.GetUnixFileMode(FilePath)
            : UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var temporary = Path.Combine(folder, $".{Path.GetFileName(FilePath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = mode;
            }

            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(Encoding.UTF8.GetBytes(Render()));
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
            {
                // UnixCreateMode is filtered by the umask; an existing file's mode is kept exactly.
                File.SetUnixFileMode(temporary, mode);
            }

            File.Move(temporary, FilePath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }

        return true;
    }

    /// <summary>A node as indented JSON (what --print shows and what is written).</summary>
    public static string Render(JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            node.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static string? Key(JsonObject o, string key) =>
        o.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, key, StringComparison.Ordinal))
        ?? o.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));

    private static void Materialize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (_, child) in o)
                {
                    Materialize(child);
                }

                break;
            case JsonArray a:
                foreach (var child in a)
                {
                    Materialize(child);
                }

                break;
        }
    }

    private static bool HasComments(byte[] bytes)
    {
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Allow, AllowTrailingCommas = true });
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.Comment)
            {
                return true;
            }
        }

        return false;
    }
}
