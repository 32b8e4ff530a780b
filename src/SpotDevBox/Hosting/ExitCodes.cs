namespace SpotDevBox.Hosting;

/// <summary>The documented exit codes (README "Exit codes").</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Failure at run time: storage unreachable, access denied, corruption found, repository locked.</summary>
    public const int Failure = 1;
    /// <summary>Invalid arguments or configuration: nothing was changed.</summary>
    public const int InvalidInput = 2;
    /// <summary>The snapshot was saved, but some files could not be read (they are listed as warnings).</summary>
    public const int Incomplete = 3;
    /// <summary>Interrupted (Ctrl+C / SIGTERM) before it finished; earlier snapshots are untouched.</summary>
    public const int Interrupted = 130;
}
