namespace SpotDevBox.Core.Controller;

/// <summary>
/// A box's budget override: launches past the box's or its owner's monthly budget are allowed until
/// <see cref="Until"/>. An operator-only document, <c>ROOT/_operator/budget-overrides/&lt;owner&gt;/&lt;box&gt;.json</c>
/// (ROOT: the box's storage without its last two segments, <c>&lt;owner&gt;/&lt;box&gt;</c>): only an operator's
/// policy (or a solo user, their own operator) may write it; the box's role cannot, and the controller only reads
/// it. Written by <c>spotdevbox up BOX --over-budget</c> (docs/controller.md, "Budgets"; docs/security.md).
/// </summary>
/// <param name="Until">Launches past the budget are allowed until then (the start of the next month, UTC).</param>
/// <param name="By">Who granted it (the user who ran <c>up --over-budget</c>).</param>
/// <param name="When">When it was granted.</param>
/// <param name="Reason">Why, when the grantor said so.</param>
public sealed record BudgetOverride(DateTimeOffset Until, string By, DateTimeOffset When, string? Reason = null)
{
    /// <summary>The key of the document under ROOT.</summary>
    public static string KeyFor(string owner, string box) => $"_operator/budget-overrides/{owner}/{box}.json";

    /// <summary>Whether it allows a launch past the budget at <paramref name="now"/>.</summary>
    public bool AllowsAt(DateTimeOffset now) => Until > now && When <= Until;
}
