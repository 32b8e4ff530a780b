using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Agent;

/// <summary>
/// The agent's state in one place: who the box is, what it is doing, its last snapshot and why it
/// stays awake. Every change bumps <see cref="Version"/>; the status publisher writes it out.
/// </summary>
internal sealed class AgentStatusBoard(IOptions<AgentOptions> options, TimeProvider time)
{
    private readonly Lock _gate = new();
    private AgentStatus _status = new()
    {
        Box = options.Value.ResolveBoxName(),
        State = AgentState.Starting,
        UpdatedAt = time.GetUtcNow(),
        AgentVersion = AgentVersion,
        SessionStart = time.GetUtcNow(),
    };

    private long _version;

    public static string AgentVersion { get; } =
        typeof(AgentStatusBoard).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public long Version => Interlocked.Read(ref _version);

    public AgentStatus Current
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    /// <summary>Set once the notice, a user or the idle policy decided how this session ends.</summary>
    public SessionEnd? EndReason { get; private set; }

    public string? EndDetail { get; private set; }

    public event Action? Changed;

    public void Update(Func<AgentStatus, AgentStatus> change)
    {
        lock (_gate)
        {
            _status = change(_status) with { UpdatedAt = time.GetUtcNow() };
        }

        Interlocked.Increment(ref _version);
        Changed?.Invoke();
    }

    public void SetIdentity(InstanceIdentity? identity) => Update(s => s with
    {
        InstanceId = identity?.InstanceId,
        InstanceType = identity?.InstanceType,
        AvailabilityZone = identity?.AvailabilityZone,
        Lifecycle = identity?.Lifecycle,
    });

    public void SetState(AgentState state) => Update(s => s with { State = state });

    /// <summary>
    /// How this session ends. The first reason decided wins, except that a spot interruption overrides any
    /// other: EC2 ends the instance then, whatever the agent had started (the ledger must know it was EC2).
    /// </summary>
    public void DecideEnd(SessionEnd reason, string detail)
    {
        lock (_gate)
        {
            if (EndReason is not null && !(reason == SessionEnd.Interruption && EndReason != SessionEnd.Interruption))
            {
                return;
            }

            EndReason = reason;
            EndDetail = detail;
        }

        Update(s => s with { StopReason = $"{reason}: {detail}" });
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(Current, BoxJson.Default.AgentStatus);
}
