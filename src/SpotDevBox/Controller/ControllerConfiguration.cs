using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Controller;

/// <summary>The controller's boxes for the verbs people type: bound strictly and validated, so a bad box stops with exit code 2.</summary>
internal static class ControllerConfiguration
{
    /// <summary>
    /// Every class that <see cref="UnknownKeys"/> walks, kept with its public properties in a trimmed (native
    /// AOT) build, where the binder is generated code and nothing else would keep their metadata. A test checks
    /// that this list holds every class-typed property reachable from <see cref="ControllerOptions"/>.
    /// </summary>
    internal static readonly Type[] WalkedOptionTypes = [typeof(ControllerOptions), typeof(ReconcileOptions), typeof(BoxOptions), typeof(ScheduleOptions), typeof(BoxAgentOptions), typeof(FleetOptions), typeof(MetricsOptions), typeof(OtlpMetricsOptions), typeof(PrometheusMetricsOptions), typeof(ClusterOptions)];

    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(ControllerOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(ReconcileOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(BoxOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(ScheduleOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(BoxAgentOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(FleetOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(MetricsOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(OtlpMetricsOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(PrometheusMetricsOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(ClusterOptions))]
    public static ControllerOptions ReadValidated(IConfiguration configuration)
    {
        var section = configuration.GetSection(ControllerOptions.SectionName);
        // The binder's own error for an unknown key inside a dictionary entry does not say which key: find it first.
        var unknown = section.GetSection(nameof(ControllerOptions.Boxes)).GetChildren()
            .SelectMany(box => UnknownKeys(box, typeof(BoxOptions)))
            .Concat(UnknownKeys(section, typeof(ControllerOptions)))
            .ToList();
        if (unknown.Count > 0)
        {
            throw new OptionsValidationException(ControllerOptions.SectionName, typeof(ControllerOptions), [.. unknown.Select(k => $"{k} is not a setting (a typo, or a setting of another version?)")]);
        }

        var options = new ControllerOptions();
        section.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        var result = new ControllerOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(ControllerOptions.SectionName, typeof(ControllerOptions), result.Failures);
        }

        return options;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Only the types of WalkedOptionTypes reach here; ReadValidated keeps their public properties (DynamicDependency).")]
    private static IEnumerable<string> UnknownKeys(IConfigurationSection section, Type type)
    {
        foreach (var child in section.GetChildren())
        {
            var property = type.GetProperty(child.Key, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase);
            if (property is null)
            {
                yield return child.Path;
            }
            else if (property.PropertyType.IsClass && property.PropertyType != typeof(string) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(property.PropertyType))
            {
                foreach (var nested in UnknownKeys(child, property.PropertyType))
                {
                    yield return nested;
                }
            }
        }
    }
}
