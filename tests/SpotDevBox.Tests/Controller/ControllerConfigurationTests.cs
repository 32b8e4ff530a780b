using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using SpotDevBox.Controller;
using SpotDevBox.Core.Boxes;

namespace SpotDevBox.Tests.Controller;

/// <summary>
/// ControllerConfiguration finds unknown keys by walking the option classes' properties. The native AOT
/// build keeps those properties only for the classes it is told about: these tests keep that list whole.
/// </summary>
public sealed class ControllerConfigurationTests
{
    [Fact]
    public void WalkedOptionTypes_EveryClassTheWalkReaches_IsListed()
    {
        var reached = new HashSet<Type>();
        // The walk starts at the section (ControllerOptions) and at each box under Boxes (BoxOptions).
        Reach(typeof(ControllerOptions), reached);
        Reach(typeof(BoxOptions), reached);

        Assert.Empty(reached.Except(ControllerConfiguration.WalkedOptionTypes).Select(t => t.Name));
    }

    [Fact]
    public void ReadValidated_KeepsThePropertiesOfEachWalkedType()
    {
        var kept = typeof(ControllerConfiguration).GetMethod(nameof(ControllerConfiguration.ReadValidated))!
            .GetCustomAttributes<DynamicDependencyAttribute>()
            .Where(d => d.MemberTypes.HasFlag(DynamicallyAccessedMemberTypes.PublicProperties))
            .Select(d => d.Type!)
            .ToHashSet();

        Assert.Equal(["BoxAgentOptions", "BoxOptions", "ClusterOptions", "ControllerOptions", "FleetOptions", "MetricsOptions", "OtlpMetricsOptions", "PrometheusMetricsOptions", "ReconcileOptions", "ScheduleOptions"], ControllerConfiguration.WalkedOptionTypes.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Empty(ControllerConfiguration.WalkedOptionTypes.Except(kept).Select(t => t.Name));
    }

    private static void Reach(Type type, HashSet<Type> reached)
    {
        if (!reached.Add(type))
        {
            return;
        }

        // The same rule as UnknownKeys: classes other than string and collections are walked into.
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var t = property.PropertyType;
            if (t.IsClass && t != typeof(string) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(t))
            {
                Reach(t, reached);
            }
        }
    }
}
