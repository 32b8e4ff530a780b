namespace SpotDevBox.Core.Idle;

/// <summary>
/// An explicit lease keeps the box awake until it ends. A lease that cannot be read counts as no lease
/// (the reason says why), so a damaged lease file neither crashes the agent nor keeps the box up forever.
/// </summary>
public sealed class LeaseSignal(ILeaseSource leases, LeaseSignalOptions options) : IIdleSignal
{
    public string Name => "lease";

    public bool Enabled => options.Enabled;

    public async ValueTask<SignalReading> SampleAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        Lease? lease;
        try
        {
            lease = await leases.GetLeaseAsync(cancellationToken);
        }
        catch (LeaseUnreadableException e)
        {
            return SignalReading.Unavailable(Name, $"{e.Message}; treated as no lease");
        }

        return lease switch
        {
            null => SignalReading.Inactive(Name, "no lease"),
            _ when lease.IsActiveAt(now) => SignalReading.ActiveBecause(Name, lease.Describe(now)),
            _ => SignalReading.Inactive(Name, $"lease ended at {Text.Clock(lease.Until)}"),
        };
    }
}
