using Spectre.Console;

namespace SpotDevBox.Commands;

/// <summary>
/// The box is the first argument of every verb that acts on one (up alice, down alice, status alice, keepalive alice 2h,
/// schedule alice, ssh-config alice, ssh alice); --box/-b stays as a hidden alias for scripts written before.
/// </summary>
internal static class BoxArgument
{
    /// <summary>The alias's attribute text: hidden, so that help shows one way to name the box.</summary>
    public const string AliasOption = "-b|--box <BOX>";

    /// <summary>The box given either way; null when neither.</summary>
    public static string? Of(string? positional, string? alias) => positional ?? alias;

    /// <summary>An error when the box is given both ways and the two differ.</summary>
    public static ValidationResult Check(string verb, string? positional, string? alias) =>
        positional is not null && alias is not null && !string.Equals(positional, alias, StringComparison.Ordinal)
            ? ValidationResult.Error($"the box is given twice ('{positional}' and --box '{alias}'); give it once: spotdevbox {verb} BOX")
            : ValidationResult.Success();
}
