namespace SpotDevBox.Core.Idle;

public static class IdleSignals
{
    /// <summary>Every signal, configured from <paramref name="options"/>; disabled ones are included and skipped by the monitor.</summary>
    public static IReadOnlyList<IIdleSignal> Create(IdleOptions options, HostRoot root, ICommandRunner commands, ILeaseSource leases, ISelfActivity self)
    {
        ArgumentNullException.ThrowIfNull(options);
        return
        [
            new LeaseSignal(leases, options.Lease),
            new SessionSignal(root, options.Sessions),
            new RemoteIdeSignal(root, options.RemoteIde, self),
            new KeepAwakeSignal(root, options.KeepAwake, options.RemoteIde, self),
            new GpuSignal(options.Gpu, commands),
            new CpuSignal(root, options.Cpu, self),
            new NetworkSignal(root, options.Network, self),
        ];
    }
}
