using System.Reflection;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Boxes;

/// <summary>
/// The agent build a box installs: <c>s3://Bucket/Key</c>, a .tar.gz of the self-contained publish for
/// <paramref name="Architecture"/> with the <c>spotdevbox</c> executable at its top, whose SHA-256
/// (hex) the user data pins. The box's instance role must be allowed to read it.
/// </summary>
public sealed record AgentArtifact(string Bucket, string Key, string Sha256, CpuArchitecture Architecture);

/// <summary>The agent's own daily stop (Agent:StopTime in Agent:TimeZone), for a box no controller stops.</summary>
public sealed record AgentStopTime(string StopTime, string TimeZone);

/// <summary>The user data cannot be rendered for this box; <see cref="Problems"/> names each setting and value.</summary>
public sealed class UserDataException : Exception
{
    /// <param name="box">The box's name as the message shows it (quoted and escaped).</param>
    public UserDataException(string box, IReadOnlyList<string> problems)
        : base($"Cannot render the user data of box {box}: {string.Join("; ", problems)}") => Problems = problems;

    public UserDataException() : this("", ["no details"]) { }

    public UserDataException(string message) : base(message) => Problems = [message];

    public UserDataException(string message, Exception innerException) : base(message, innerException) => Problems = [message];

    public IReadOnlyList<string> Problems { get; } = [];
}

/// <summary>
/// Renders deploy/cloud-init/user-data.yaml.template for one box: the cloud-config that creates the
/// developer's account, writes the agent's configuration, unit and login script, and runs the install
/// script that downloads the pinned agent with the instance role and starts it. The deploy files are
/// embedded in this assembly as shipped, so the template, the unit and the scripts have one source.
/// Every value is checked (no control or line-break characters, formats where there is one) and
/// YAML-quoted; the result carries no secret and fits EC2's 16 KB.
/// </summary>
public static partial class UserDataTemplate
{
    /// <summary>Restarts sshd after the agent restored the box's host keys: ssh.service on Debian, sshd.service on Amazon Linux.</summary>
    public static readonly IReadOnlyList<string> HostKeyReloadCommand = ["systemctl", "try-reload-or-restart", "ssh.service", "sshd.service"];

    private static readonly JsonWriterOptions JsonOptions = new()
    {
        Indented = true,
        NewLine = "\n",
        // Values are checked before; this keeps ' < > & + and non-ASCII readable instead of \uXXXX.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The cloud-config text for a launch of <paramref name="boxName"/>.</summary>
    /// <exception cref="UserDataException">A value cannot be placed safely, or the result is over <see cref="LaunchRequest.MaxUserDataBytes"/>.</exception>
    /// <param name="rollback">The rollback floor (Agent:MinimumSnapshot) and the one-shot permission (Agent:AllowRollback); null: neither.</param>
    /// <param name="repositoryKeyArn">The fleet's repositories' KMS key (Agent:RepositoryKeyArn); empty: not written.</param>
    public static string Render(BoxOptions box, string boxName, AgentArtifact artifact, AgentStopTime? stop = null, RollbackGuard? rollback = null, string repositoryKeyArn = "")
    {
        ArgumentNullException.ThrowIfNull(box);
        ArgumentNullException.ThrowIfNull(boxName);
        ArgumentNullException.ThrowIfNull(artifact);
        var problems = Check(box, boxName, artifact, stop);
        if (rollback?.Floor is { } floor && !SnapshotFloor.IsSnapshotId(floor.Id))
        {
            // Reported by the box: anything but an id is refused rather than placed in the user data.
            problems.Add("the rollback floor's snapshot id must be 64 lower-case hex digits; the controller's record of it is damaged");
        }

        if (problems.Count > 0)
        {
            throw new UserDataException(Display(boxName), problems);
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["BOX_NAME"] = boxName,
            ["AGENT_BUCKET"] = artifact.Bucket,
            ["AGENT_KEY"] = artifact.Key,
            ["AGENT_SHA256"] = artifact.Sha256.ToLowerInvariant(),
            ["AGENT_ARCH"] = artifact.Architecture == CpuArchitecture.Arm64 ? "arm64" : "x64",
            ["REGION"] = box.Region,
            ["USER"] = box.User,
            ["DOCKER"] = box.Docker ? "yes" : "no",
        };
        var blocks = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DEVELOPER_USER"] = DeveloperUser(box.User),
            ["AGENT_JSON"] = AgentJson(box, boxName, stop, rollback ?? RollbackGuard.None, repositoryKeyArn),
            ["AGENT_UNIT"] = Resource("spotdevbox-agent.service"),
            ["PROFILE_SCRIPT"] = Resource("spotdevbox-profile.sh"),
            ["INSTALL_SCRIPT"] = Resource("spotdevbox-install.sh"),
        };

        var text = Fill(Resource("user-data.yaml.template"), values, blocks);
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > LaunchRequest.MaxUserDataBytes)
        {
            throw new UserDataException(Display(boxName),
                [$"the user data is {bytes} bytes and EC2 takes at most {LaunchRequest.MaxUserDataBytes}; {box.Paths.Count} Paths take {box.Paths.Sum(p => Encoding.UTF8.GetByteCount(p))} bytes of it"]);
        }

        return text;
    }

    private static List<string> Check(BoxOptions box, string boxName, AgentArtifact artifact, AgentStopTime? stop)
    {
        var problems = new List<string>();
        void Expect(bool ok, string setting, string value, string what)
        {
            if (!ok)
            {
                problems.Add($"{setting} must be {what}, got {Display(value)}");
            }
        }

        Expect(BoxName().IsMatch(boxName), "the box name", boxName, "1-32 lower-case letters, digits and '-', starting with a letter");
        if (box.User.Length > 0 || box.Paths.Count == 0)
        {
            Expect(UserName().IsMatch(box.User) && box.User != "root", "User", box.User,
                "a Linux user name other than root (1-32 lower-case letters, digits, '_' and '-', starting with a letter or '_')");
        }

        Expect(Region().IsMatch(box.Region), "Region", box.Region, "an AWS region such as eu-central-1");
        var storage = StoragePrefix().Match(box.Storage);
        Expect(storage.Success && Safe(box.Storage), "Storage", box.Storage, "the box's prefix in a bucket, s3://bucket/prefix, without control or line-break characters");
        for (var i = 0; i < box.Paths.Count; i++)
        {
            var p = box.Paths[i] ?? "";
            Expect(p.StartsWith('/') && Safe(p), $"Paths:{i}", p, "an absolute path without control or line-break characters");
        }

        Expect(Bucket().IsMatch(artifact.Bucket), "the agent's bucket", artifact.Bucket, "an S3 bucket name");
        Expect(ObjectKey().IsMatch(artifact.Key), "the agent's key", artifact.Key,
            "an S3 key of letters, digits and ! - _ . * ' ( ) /, not starting with '/'");
        Expect(Sha256().IsMatch(artifact.Sha256), "the agent's SHA-256", artifact.Sha256, "64 hex digits");
        Expect(Enum.IsDefined(artifact.Architecture), "the agent's architecture", artifact.Architecture.ToString(), "x64 or arm64");
        if (stop is not null)
        {
            Expect(TimeOnly.TryParseExact(stop.StopTime, "HH:mm", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _),
                "StopTime", stop.StopTime, "a time of day as HH:mm");
            Expect(TimeZoneName().IsMatch(stop.TimeZone), "TimeZone", stop.TimeZone, "an IANA time zone such as Europe/Berlin");
        }

        // The controller validated these at start; checked again because `up` and tests render any BoxOptions.
        // The parameter name is not shown: a wrong one may be a secret pasted in its place.
        foreach (var failure in (box.Agent ?? new BoxAgentOptions()).Validate("Agent", boxName))
        {
            problems.Add(failure);
        }

        return problems;
    }

    /// <summary>
    /// Nothing YAML would read as a line break or refuse (C0/C1 controls, NEL, U+2028/2029, BOM,
    /// surrogates, U+FFFE/FFFF), so that a value cannot end its scalar and start a key of its own.
    /// </summary>
    private static bool Safe(string value) => value.All(Safe);

    private static bool Safe(char c) =>
        !(char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\uFEFF' or '\uFFFE' or '\uFFFF');

    // .NET's $ also matches before a final newline: every pattern below ends in \z.

    /// <summary>A value as an error message shows it: quoted, with a newline or a quote visible as an escape.</summary>
    private static string Display(string value)
    {
        // A JSON string, written directly rather than through JsonSerializer (whose reflection path a native AOT build lacks).
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStringValue(value);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A YAML double-quoted scalar. Callers have refused control and line-break characters, so only \ and " need escaping.</summary>
    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string DeveloperUser(string user) => user.Length == 0
        ? ""
        : $"""
          - name: {Quote(user)}
            gecos: SpotDevBox developer
            shell: /bin/bash
            lock_passwd: true
            sudo: "ALL=(ALL) NOPASSWD:ALL"

          """;

    private static string AgentJson(BoxOptions box, string boxName, AgentStopTime? stop, RollbackGuard rollback, string repositoryKeyArn)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteStartObject("Agent");
            json.WriteString("Box", box.Storage);
            json.WriteString("BoxName", boxName);
            if (box.Owner.Length > 0)
            {
                // With the fleet's repository key, "OWNER/BOX" is the KMS encryption context of the box's repositories.
                json.WriteString("Owner", box.Owner);
            }
            if (box.User.Length > 0)
            {
                json.WriteString("User", box.User);
            }

            if (box.Paths.Count > 0)
            {
                json.WriteStartArray("Paths");
                foreach (var p in box.Paths)
                {
                    json.WriteStringValue(p);
                }

                json.WriteEndArray();
            }

            json.WriteStartArray("HostKeyReloadCommand");
            foreach (var part in HostKeyReloadCommand)
            {
                json.WriteStringValue(part);
            }

            json.WriteEndArray();
            if (stop is not null)
            {
                json.WriteString("StopTime", stop.StopTime);
                json.WriteString("TimeZone", stop.TimeZone);
            }

            if (rollback.Floor is { } floor)
            {
                json.WriteStartObject("MinimumSnapshot");
                json.WriteString("Id", floor.Id);
                json.WriteString("Time", floor.Time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteEndObject();
            }

            var agent = box.Agent ?? new BoxAgentOptions();
            if (rollback.AllowRollback || agent.AllowRollback == true)
            {
                json.WriteBoolean("AllowRollback", true);
            }

            if (repositoryKeyArn.Length > 0)
            {
                json.WriteString("RepositoryKeyArn", repositoryKeyArn);
            }

            WriteAgentSettings(json, agent);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>The box's own agent settings, under the agent's names; unset ones are left to the agent's defaults.</summary>
    private static void WriteAgentSettings(Utf8JsonWriter json, BoxAgentOptions agent)
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        if (agent.BackupInterval is { } backup)
        {
            json.WriteString("BackupInterval", backup.ToString("c", c));
        }

        foreach (var (key, value) in new[] { ("KeepLast", agent.KeepLast), ("KeepDaily", agent.KeepDaily), ("KeepWeekly", agent.KeepWeekly) })
        {
            if (value is { } v)
            {
                json.WriteNumber(key, v);
            }
        }

        if (agent.KeepWithin is { } within)
        {
            json.WriteString("KeepWithin", within.ToString("c", c));
        }

        if (agent.WebhookParameter.Length > 0)
        {
            json.WriteString("WebhookParameter", agent.WebhookParameter);
        }

        if (agent.IdleTimeout is { } idle)
        {
            json.WriteStartObject("Idle");
            json.WriteString("IdleTimeout", idle.ToString("c", c));
            json.WriteEndObject();
        }
    }

    /// <summary>
    /// A placeholder alone on its line takes a block, each line indented like the placeholder (an empty
    /// block removes the line); one inside a line takes a quoted value. Inserted text is not scanned again.
    /// </summary>
    private static string Fill(string template, Dictionary<string, string> values, Dictionary<string, string> blocks)
    {
        var output = new StringBuilder(template.Length * 4);
        foreach (var line in template.Split('\n'))
        {
            var whole = WholeLinePlaceholder().Match(line);
            if (whole.Success)
            {
                var name = whole.Groups["name"].Value;
                if (!blocks.TryGetValue(name, out var block))
                {
                    throw new InvalidOperationException($"user-data.yaml.template: no block named {name}");
                }

                var indent = whole.Groups["indent"].Value;
                foreach (var blockLine in block.Split('\n').SkipLast(1))
                {
                    output.Append(blockLine.Length == 0 ? "" : indent + blockLine).Append('\n');
                }

                continue;
            }

            output.Append(Placeholder().Replace(line, m => values.TryGetValue(m.Groups["name"].Value, out var v)
                ? Quote(v)
                : throw new InvalidOperationException($"user-data.yaml.template: no value named {m.Groups["name"].Value}"))).Append('\n');
        }

        // Split leaves one empty string after the template's final newline.
        return output.ToString(0, output.Length - 1);
    }

    /// <summary>A deploy file as shipped; it must be text a YAML literal block can hold.</summary>
    private static string Resource(string name)
    {
        using var stream = typeof(UserDataTemplate).Assembly.GetManifestResourceStream("SpotDevBox.Deploy." + name)
            ?? throw new InvalidOperationException($"{name} is not embedded in {typeof(UserDataTemplate).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = reader.ReadToEnd();
        if (text.Length == 0 || text[^1] != '\n' || text[0] is ' ' or '\t' || text.Any(c => c is not ('\n' or '\t') && !Safe(c)))
        {
            throw new InvalidOperationException($"{name} must be LF-terminated text without control characters that does not start with a blank");
        }

        return text;
    }

    [GeneratedRegex("^(?<indent> *)\\{\\{(?<name>[A-Z_]+)\\}\\}$", RegexOptions.CultureInvariant)]
    private static partial Regex WholeLinePlaceholder();

    [GeneratedRegex("\\{\\{(?<name>[A-Z0-9_]+)\\}\\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();

    [GeneratedRegex("^[a-z][a-z0-9-]{0,31}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex BoxName();

    [GeneratedRegex("^[a-z_][a-z0-9_-]{0,31}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex UserName();

    [GeneratedRegex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Region();

    [GeneratedRegex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^/].*\\z", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex StoragePrefix();

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Bucket();

    [GeneratedRegex("^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]{0,1023}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ObjectKey();

    [GeneratedRegex("^[0-9a-fA-F]{64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256();

    [GeneratedRegex("^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex TimeZoneName();
}
