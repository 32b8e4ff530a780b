namespace SpotDevBox.Hosting;

/// <summary>The services a verb's host holds beyond the common ones: the workers run their own hosted services.</summary>
internal enum VerbHost
{
    /// <summary>The verbs a person types: the common services, nothing started in the background.</summary>
    Cli,

    /// <summary><c>agent run</c>: the agent's options (validated at start), watcher, jobs and hosted services.</summary>
    Agent,

    /// <summary><c>controller run</c>: Quartz's reconcile and transition jobs, the metrics.</summary>
    Controller,
}

/// <summary>
/// A verb's settings that say which host the verb needs. The command line reads it from the settings the parser
/// bound (SpotDevBoxApp.HostOf), so option order, aliases and help behave as the parser has them.
/// </summary>
internal interface IVerbHostSettings
{
    VerbHost Host { get; }
}
