using System.Collections.Concurrent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Controller;

/// <summary>Puts the box's Elastic IP on its running instance, once per instance and process.</summary>
internal sealed class ElasticIps
{
    private readonly ConcurrentDictionary<string, byte> _addressed = new(StringComparer.Ordinal);

    /// <summary>Whether this process has put the box's Elastic IP on <paramref name="instanceId"/>.</summary>
    public bool IsOn(string instanceId) => _addressed.ContainsKey(instanceId);

    public async Task<BoxDecision> AssociateAsync(IComputeGateway gateway, string box, BoxOptions o, AddressIntent intent, CancellationToken cancellationToken)
    {
        var (id, nextChange) = intent;
        try
        {
            var address = await gateway.AssociateAddressAsync(o.ElasticIp.Trim(), id, cancellationToken);
            _addressed[id] = 0;
            return new BoxDecision(box, ReconcileActions.AssociateAddress, $"Elastic IP {o.ElasticIp} ({address}) is on {id}", id, nextChange);
        }
        catch (ComputeException e) when (e.Failure is ComputeFailure.NotReady or ComputeFailure.Throttled or ComputeFailure.Unavailable)
        {
            return new BoxDecision(box, ReconcileActions.AssociateAddress, $"Elastic IP {o.ElasticIp} not yet on {id} ({e.Message}); trying again next pass", id, nextChange);
        }
        catch (ComputeException e)
        {
            // A wrong allocation id or missing permission: said once (the reason does not change), tried every pass.
            return new BoxDecision(box, ReconcileActions.AddressFailed, $"Elastic IP {o.ElasticIp} cannot be put on {id}: {e.Message}; the box runs at its own address", id, nextChange);
        }
    }
}
