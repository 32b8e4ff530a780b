namespace SpotDevBox.Core.Idle;

public static class IdleSignals
{
    /// <summary>Every signal, configured from <paramref name="options"/>; disabled ones are included and skipped by the monitor.</summary>
    public static IReadOnlyList<IIdleSignal> Create(IdleOptions options, HostRoot root, ICommandRunner commands, ILeaseSource leases, ISelfActivity self)
    {
        ArgumentNullException.ThrowIfNull(options);
        // The keep-awake signal, sampled right after the remote IDE one, reuses its scan of /proc.
        var scans = new ProcessScanShare();
        return
        [
            new LeaseSignal(leases, options.Lease),
            new SessionSignal(root, options.Sessions),
            new RemoteIdeSignal(root, options.RemoteIde, self, scans),
            new KeepAwakeSignal(root, options.KeepAwake, options.RemoteIde, self, scans),
            new GpuSignal(options.Gpu, commands),
            new CpuSignal(root, options.Cpu, self),
            new NetworkSignal(root, options.Network, self),
        ];
    }
}
