using Microsoft.Extensions.Options;

namespace SpotDevBox.Core.Agent;

/// <summary>The on-box agent's settings, from the "Agent" section (the IMDS, interruption and idle settings have sections of their own under it).</summary>
public sealed class AgentOptions
{
    public const string SectionName = "Agent";

    /// <summary>Patterns left out of the box's backups unless <see cref="DefaultExcludes"/> is false: rebuildable, large, or caches.</summary>
    public static readonly IReadOnlyList<string> StandardExcludes =
    [
        "node_modules/", "bin/", "obj/", "target/", ".venv/", "venv/", "__pycache__/", ".cache/", ".npm/", ".nuget/packages/",
        ".gradle/caches/", ".m2/repository/", ".cargo/registry/", ".cargo/git/", "go/pkg/mod/", ".local/share/Trash/",
        ".vscode-server/", ".cursor-server/", ".docker/", ".local/share/containers/",
    ];

    /// <summary>The box's place in storage: <c>s3://bucket/ROOT/OWNER/BOX</c> or a directory. The backup repository is its <c>repo/</c>.</summary>
    public string Box { get; set; } = "";

    /// <summary>The box's name in status and records; empty: the last component of <see cref="Box"/>.</summary>
    public string BoxName { get; set; } = "";

    /// <summary>The box's owner as the controller knows it: with <see cref="BoxName"/>, the KMS encryption context "OWNER/BOX" of its repositories.</summary>
    public string Owner { get; set; } = "";

    /// <summary>
    /// The fleet's KMS key for repositories: the box's repositories' master keys are wrapped by it under the context
    /// {"spotdevbox:box": "OWNER/BOX"} (docs/security.md, "Keys"). Either this (with <see cref="Owner"/>) or <see cref="PasswordFile"/>.
    /// </summary>
    public string RepositoryKeyArn { get; set; } = "";

    /// <summary>A file (mode 0600) whose first line is the passphrase of the box's repositories, where there is no KMS (a lab, a local box).</summary>
    public string PasswordFile { get; set; } = "";

    /// <summary>The developer's account; its home directory is backed up when <see cref="Paths"/> is empty.</summary>
    public string User { get; set; } = "";

    /// <summary>What is backed up and restored; empty: the home directory of <see cref="User"/>.</summary>
    public IList<string> Paths { get; } = [];

    /// <summary>Whether <see cref="StandardExcludes"/> apply.</summary>
    public bool DefaultExcludes { get; set; } = true;

    /// <summary>More gitignore-style patterns to leave out (Backup:Excludes apply too).</summary>
    public IList<string> Excludes { get; } = [];

    public TimeSpan BackupInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Restore the latest snapshot when the agent starts on a fresh box.</summary>
    public bool RestoreAtStart { get; set; } = true;

    public int KeepLast { get; set; } = 24;
    public int KeepDaily { get; set; } = 7;
    public int KeepWeekly { get; set; } = 4;

    /// <summary>
    /// Keep every snapshot dated within this long before now (the agent's clock, not the newest snapshot's date), so a
    /// flood of snapshots cannot push the history out. Zero: only the counts apply.
    /// </summary>
    public TimeSpan KeepWithin { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often forget + prune runs (the first run 30 minutes after start). Zero turns retention off.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// The rollback floor (docs/agent.md, "Rollback"): the newest snapshot the box was seen to report, from the launch's
    /// user data. The boot restore refuses a repository whose latest snapshot is older. Unset: no floor (a first session).
    /// </summary>
    public MinimumSnapshotOptions MinimumSnapshot { get; set; } = new();

    /// <summary>Restore the latest snapshot even when it is below <see cref="MinimumSnapshot"/>, with a warning (<c>up --allow-rollback</c>).</summary>
    public bool AllowRollback { get; set; }

    /// <summary>Keep the box's SSH host keys across instances (saved on the first boot, restored on the next ones).</summary>
    public bool HostKeys { get; set; } = true;

    public string HostKeyDirectory { get; set; } = "/etc/ssh";

    /// <summary>Run after the host keys were restored, so sshd serves them (empty: nothing).</summary>
    public IList<string> HostKeyReloadCommand { get; } = [];

    /// <summary>Agent state that lives as long as the instance: restore marker, last status.</summary>
    public string StateDirectory { get; set; } = "/var/lib/spotdevbox";

    /// <summary>The agent's status and notices (systemd's RuntimeDirectory, mode 0755); <c>spotdevbox keepalive</c> leaves its lease in its lease/ (root:spotdevbox, 2770).</summary>
    public string RunDirectory { get; set; } = "/run/spotdevbox";

    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan ControlPollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The command that powers the box off once the final backup committed (empty: systemctl poweroff).</summary>
    public IList<string> PowerOffCommand { get; } = [];

    /// <summary>Tell logged-in users with wall(1).</summary>
    public bool Wall { get; set; } = true;

    /// <summary>A webhook for notices, stop warnings, backup failures and the stop (JSON POST, Slack-compatible "text").</summary>
    public string WebhookUrl { get; set; } = "";

    /// <summary>
    /// The name of an SSM SecureString parameter that holds the webhook URL (what a controller's user data sends
    /// instead of the URL, which is a secret): read with the box's role at start, never logged. Not with <see cref="WebhookUrl"/>.
    /// </summary>
    public string WebhookParameter { get; set; } = "";

    /// <summary>How long the final backup may take when the agent is stopped (keep below systemd's TimeoutStopSec); it commits a partial snapshot by then, newest changes first.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>
    /// A daily stop time ("19:00") in <see cref="TimeZone"/>, for boxes without a controller: the first such
    /// time after the session started goes through the stop path (warn, back up, power off); activity or a
    /// lease postpones it up to Agent:Idle:MaxScheduleOverrun. Empty: none. A controller's schedule, sent in
    /// control.json, takes its place.
    /// </summary>
    public string StopTime { get; set; } = "";

    /// <summary>IANA time zone of <see cref="StopTime"/>, e.g. "Europe/Berlin".</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>The first <see cref="StopTime"/> after <paramref name="sessionStart"/>, or null when none is set.</summary>
    public DateTimeOffset? NextStop(DateTimeOffset sessionStart)
    {
        if (string.IsNullOrWhiteSpace(StopTime))
        {
            return null;
        }

        var time = TimeOnly.ParseExact(StopTime, "HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
        var localStart = TimeZoneInfo.ConvertTime(sessionStart, zone);
        for (var day = DateOnly.FromDateTime(localStart.DateTime); ; day = day.AddDays(1))
        {
            var local = day.ToDateTime(time);
            // A stop in the spring-forward gap happens at the first valid minute after it.
            while (zone.IsInvalidTime(local))
            {
                local = local.AddMinutes(1);
            }

            // In the repeated autumn hour the first (daylight) occurrence counts: a stop is never an hour late.
            var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
            var at = new DateTimeOffset(local, offset);
            if (at > sessionStart)
            {
                return at.ToUniversalTime();
            }
        }
    }

    /// <summary>Where the idle sensors find /proc, /run and /dev ("/" on a box; a fixture tree in tests).</summary>
    public string HostRoot { get; set; } = "/";

    // Bound again as options of their own; declared here so that an unknown key anywhere under "Agent"
    // stops the agent at start instead of being ignored.
    public Interruption.InterruptionOptions Interruption { get; set; } = new();
    public Interruption.MetadataOptions Metadata { get; set; } = new();
    public Idle.IdleOptions Idle { get; set; } = new();

    public string ResolveBoxName() =>
        !string.IsNullOrWhiteSpace(BoxName) ? BoxName : Box.TrimEnd('/').Split('/').LastOrDefault(s => s.Length > 0) ?? "box";

    public IReadOnlyList<string> ResolveExcludes(IEnumerable<string> engineExcludes) =>
        [.. (DefaultExcludes ? StandardExcludes : []).Concat(Excludes).Concat(engineExcludes).Distinct(StringComparer.Ordinal)];

    public IReadOnlyList<string> ResolvePowerOffCommand() => PowerOffCommand.Count > 0 ? [.. PowerOffCommand] : ["systemctl", "poweroff"];
}

/// <summary>Agent:MinimumSnapshot: both set, or neither.</summary>
public sealed class MinimumSnapshotOptions
{
    /// <summary>The snapshot's id, 64 hex digits.</summary>
    public string Id { get; set; } = "";

    /// <summary>The time in the snapshot's manifest.</summary>
    public DateTimeOffset? Time { get; set; }

    /// <summary>The floor, or null when none is set.</summary>
    public SnapshotFloor? ToFloor() => Id.Length > 0 && Time is { } at ? new SnapshotFloor(Id, at) : null;
}

/// <summary>Names the setting, the limit and the value.</summary>
public sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var s = AgentOptions.SectionName;
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Box))
        {
            failures.Add($"{s}:Box is required: the box's storage prefix, e.g. s3://my-bucket/boxes/alice/alice");
        }

        if (string.IsNullOrWhiteSpace(options.RepositoryKeyArn) && string.IsNullOrWhiteSpace(options.PasswordFile))
        {
            failures.Add($"{s}:RepositoryKeyArn (with {s}:Owner) or {s}:PasswordFile is required: the box's repositories are encrypted, and one of them opens their key");
        }
        else if (!string.IsNullOrWhiteSpace(options.RepositoryKeyArn) && string.IsNullOrWhiteSpace(options.Owner))
        {
            failures.Add($"{s}:Owner is required with {s}:RepositoryKeyArn: it names the box in the key's encryption context (OWNER/BOX)");
        }

        if (options.Paths.Count == 0 && string.IsNullOrWhiteSpace(options.User))
        {
            failures.Add($"{s}:User or {s}:Paths is required: whose home (or which paths) the agent keeps");
        }

        foreach (var p in options.Paths.Where(p => !Path.IsPathFullyQualified(p)))
        {
            failures.Add($"{s}:Paths must hold absolute paths, got '{p}'");
        }

        if (!string.IsNullOrWhiteSpace(options.StopTime)
            && !TimeOnly.TryParseExact(options.StopTime, "HH:mm", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _))
        {
            failures.Add($"{s}:StopTime must be a time of day as HH:mm (e.g. 19:00), got '{options.StopTime}'");
        }

        try
        {
            _ = TimeZoneInfo.FindSystemTimeZoneById(options.TimeZone);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            failures.Add($"{s}:TimeZone must be an IANA time zone such as Europe/Berlin, got '{options.TimeZone}'");
        }

        Between(failures, $"{s}:BackupInterval", options.BackupInterval, TimeSpan.FromMinutes(1), TimeSpan.FromHours(24));
        Between(failures, $"{s}:StatusInterval", options.StatusInterval, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5));
        Between(failures, $"{s}:ControlPollInterval", options.ControlPollInterval, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5));
        Between(failures, $"{s}:StopTimeout", options.StopTimeout, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(30));
        if (options.RetentionInterval != TimeSpan.Zero)
        {
            Between(failures, $"{s}:RetentionInterval", options.RetentionInterval, TimeSpan.FromHours(1), TimeSpan.FromDays(30));
        }

        foreach (var (key, value) in new[] { ("KeepLast", options.KeepLast), ("KeepDaily", options.KeepDaily), ("KeepWeekly", options.KeepWeekly) })
        {
            if (value is < 0 or > 10_000)
            {
                failures.Add($"{s}:{key} must be between 0 and 10000, got {value}");
            }
        }

        Between(failures, $"{s}:KeepWithin", options.KeepWithin, TimeSpan.Zero, Boxes.BoxAgentOptions.MaxKeepWithin);
        if (options.RetentionInterval != TimeSpan.Zero && options.KeepLast + options.KeepDaily + options.KeepWeekly == 0 && options.KeepWithin == TimeSpan.Zero)
        {
            failures.Add($"{s}:KeepLast, KeepDaily, KeepWeekly and KeepWithin are all 0: retention would delete every snapshot (set RetentionInterval to 00:00:00 to turn retention off)");
        }

        var minimum = options.MinimumSnapshot;
        if ((minimum.Id.Length > 0) != (minimum.Time is not null))
        {
            failures.Add($"{s}:MinimumSnapshot needs both Id and Time, or neither");
        }
        else if (minimum.Id.Length > 0 && !SnapshotFloor.IsSnapshotId(minimum.Id))
        {
            failures.Add($"{s}:MinimumSnapshot:Id must be a snapshot id, 64 lower-case hex digits");
        }

        if (!string.IsNullOrWhiteSpace(options.WebhookUrl)
            && (!Uri.TryCreate(options.WebhookUrl, UriKind.Absolute, out var uri) || (uri.Scheme != "https" && uri.Scheme != "http")))
        {
            failures.Add($"{s}:WebhookUrl must be an http(s) URL (the value is not printed: a URL may carry a secret)");
        }

        if (!string.IsNullOrEmpty(options.WebhookParameter))
        {
            if (!Boxes.BoxAgentOptions.IsParameterName(options.WebhookParameter))
            {
                failures.Add($"{s}:WebhookParameter must be the name of an SSM parameter such as /spotdevbox/alice/webhook ('/' then letters, digits and _ . - /)");
            }
            else if (!string.IsNullOrWhiteSpace(options.WebhookUrl))
            {
                failures.Add($"{s}:WebhookUrl and {s}:WebhookParameter are both set: keep one (the parameter keeps the URL out of the configuration file)");
            }
        }

        foreach (var (key, dir) in new[] { ("HostRoot", options.HostRoot), ("StateDirectory", options.StateDirectory), ("RunDirectory", options.RunDirectory), ("HostKeyDirectory", options.HostKeyDirectory) })
        {
            if (!Path.IsPathFullyQualified(dir))
            {
                failures.Add($"{s}:{key} must be an absolute path, got '{dir}'");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Between(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{key} must be between {min} and {max}, got {value}");
        }
    }
}
