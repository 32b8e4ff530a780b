using System.Text.RegularExpressions;

namespace SpotDevBox.Core.Boxes;

/// <summary>
/// A box's own agent settings (Controller:Boxes:&lt;box&gt;:Agent), written into the agent's configuration on the
/// box by the user data of its next launch. Unset: the agent's default. Only these keys are allowed: the rest of
/// the agent's configuration is the launch's business, not the box owner's.
/// </summary>
public sealed partial class BoxAgentOptions
{
    /// <summary>How long without activity before the box saves and stops (Agent:Idle:IdleTimeout).</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>How often the agent backs up (Agent:BackupInterval).</summary>
    public TimeSpan? BackupInterval { get; set; }

    /// <summary>Retention: snapshots kept by count, per day and per week (Agent:KeepLast, KeepDaily, KeepWeekly).</summary>
    public int? KeepLast { get; set; }

    public int? KeepDaily { get; set; }

    public int? KeepWeekly { get; set; }

    /// <summary>Retention by time: every snapshot dated within this long before now is kept (Agent:KeepWithin; the agent's default is 30 days).</summary>
    public TimeSpan? KeepWithin { get; set; }

    /// <summary>
    /// The name of an SSM SecureString parameter holding the webhook URL (Agent:WebhookParameter), e.g.
    /// /spotdevbox/alice/webhook. Only the name travels in user data; the agent reads the value with the box's
    /// role at start.
    /// </summary>
    public string WebhookParameter { get; set; } = "";

    /// <summary>
    /// Restore the repository's latest snapshot at boot even when it is older than the newest one the box was seen to
    /// report (Agent:AllowRollback): for a box whose history an operator rolled back on purpose. Prefer the one-shot
    /// <c>up --allow-rollback</c>; with this set, a rollback is only logged as a warning.
    /// </summary>
    public bool? AllowRollback { get; set; }

    /// <summary>Whether any setting is given (nothing to write otherwise).</summary>
    public bool IsEmpty => IdleTimeout is null && BackupInterval is null && KeepLast is null && KeepDaily is null && KeepWeekly is null && KeepWithin is null && WebhookParameter.Length == 0 && AllowRollback is null;

    // Within the agent's own limits (AgentOptionsValidator, IdleOptionsValidator): a value the agent would refuse
    // must stop the controller at start, not the box at boot. The idle timeout stays above the default warnings (10 and 2 min).
    public static readonly TimeSpan MinIdleTimeout = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan MaxIdleTimeout = TimeSpan.FromDays(7);
    public static readonly TimeSpan MinBackupInterval = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxBackupInterval = TimeSpan.FromHours(24);
    public const int MaxKeep = 10_000;
    public static readonly TimeSpan MaxKeepWithin = TimeSpan.FromDays(36525);

    /// <summary>The path under which box <paramref name="box"/> keeps its parameters: deploy/iam/box-policy.json lets its role read only there.</summary>
    public static string ParameterPath(string box) => $"/spotdevbox/{box}/";

    /// <summary>The problems of these settings, each naming <paramref name="section"/>:key and the limit (a parameter name is not a secret, but it is not printed either).</summary>
    /// <param name="box">The box's name: its webhook parameter must be under <see cref="ParameterPath"/>.</param>
    public IReadOnlyList<string> Validate(string section, string box)
    {
        var failures = new List<string>();
        Between(failures, $"{section}:IdleTimeout", IdleTimeout, MinIdleTimeout, MaxIdleTimeout);
        Between(failures, $"{section}:BackupInterval", BackupInterval, MinBackupInterval, MaxBackupInterval);
        foreach (var (key, value) in new[] { ("KeepLast", KeepLast), ("KeepDaily", KeepDaily), ("KeepWeekly", KeepWeekly) })
        {
            if (value is < 0 or > MaxKeep)
            {
                failures.Add($"{section}:{key} must be between 0 and {MaxKeep}, got {value}");
            }
        }

        Between(failures, $"{section}:KeepWithin", KeepWithin, TimeSpan.Zero, MaxKeepWithin);
        if ((KeepLast ?? 1) + (KeepDaily ?? 1) + (KeepWeekly ?? 1) == 0 && KeepWithin == TimeSpan.Zero)
        {
            failures.Add($"{section}:KeepLast, KeepDaily, KeepWeekly and KeepWithin are all 0: retention would delete every snapshot");
        }

        if (WebhookParameter.Length > 0 && !IsParameterName(WebhookParameter))
        {
            failures.Add($"{section}:WebhookParameter must be the name of an SSM parameter such as /spotdevbox/alice/webhook ('/' then letters, digits and _ . - /, at most 1011 characters)");
        }
        else if (WebhookParameter.Length > 0 && !WebhookParameter.StartsWith(ParameterPath(box), StringComparison.Ordinal))
        {
            failures.Add($"{section}:WebhookParameter must be under {ParameterPath(box)} (the box's role may read only its own parameters, deploy/iam/box-policy.json)");
        }

        return failures;
    }

    /// <summary>An SSM parameter name by path: '/' then letters, digits and _ . - / (nothing a YAML or JSON scalar or a shell would read specially).</summary>
    public static bool IsParameterName(string name) => ParameterName().IsMatch(name);

    private static void Between(List<string> failures, string key, TimeSpan? value, TimeSpan min, TimeSpan max)
    {
        if (value is { } v && (v < min || v > max))
        {
            failures.Add($"{key} must be between {min:c} and {max:c}, got {v:c}");
        }
    }

    [GeneratedRegex("^(?=.{2,1011}\\z)/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ParameterName();
}
