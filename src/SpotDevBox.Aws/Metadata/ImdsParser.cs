using System.Globalization;
using System.Text.Json;
using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Aws.Metadata;

/// <summary>
/// Turns IMDS bodies into readings. Parses by content: the Content-Type (text/plain on EC2,
/// application/json on the AWS mock) and whitespace (the mock indents with tabs) do not matter.
/// Anything not understood is an unknown reading with a reason, never an exception and never a notice.
/// </summary>
internal static class ImdsParser
{
    private static readonly string[] Rfc3339Formats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
    ];

    /// <summary>The maintenance times: <c>21 Jan 2019 09:00:43 GMT</c>, the day may be one digit.</summary>
    private const string MaintenanceTimeFormat = "d MMM yyyy HH:mm:ss 'GMT'";

    public static MetadataReading<InstanceAction> ParseInstanceAction(string body) =>
        ParseObject(body, "spot/instance-action", root =>
        {
            if (!TryGetString(root, "action", out var actionText))
            {
                return MetadataReading.Unknown<InstanceAction>("spot/instance-action has no \"action\" string");
            }

            if (!TryParseAction(actionText, out var kind))
            {
                return MetadataReading.Unknown<InstanceAction>($"spot/instance-action has an unknown action '{Printable(actionText)}' (expected terminate, stop or hibernate)");
            }

            return TryGetRfc3339(root, "time", out var time, out var timeFailure)
                ? MetadataReading.Present(new InstanceAction(kind, time))
                : MetadataReading.Unknown<InstanceAction>($"spot/instance-action: {timeFailure}");
        });

    public static MetadataReading<RebalanceRecommendation> ParseRebalance(string body) =>
        ParseObject(body, "events/recommendations/rebalance", root =>
            TryGetRfc3339(root, "noticeTime", out var time, out var failure)
                ? MetadataReading.Present(new RebalanceRecommendation(time))
                : MetadataReading.Unknown<RebalanceRecommendation>($"events/recommendations/rebalance: {failure}"));

    public static MetadataReading<IReadOnlyList<MaintenanceEvent>> ParseScheduledEvents(string body)
    {
        const string Item = "events/maintenance/scheduled";
        if (string.IsNullOrWhiteSpace(body))
        {
            return MetadataReading.Present<IReadOnlyList<MaintenanceEvent>>([]);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                return MetadataReading.Unknown<IReadOnlyList<MaintenanceEvent>>($"{Item} is {document.RootElement.ValueKind}, not a JSON array");
            }

            var events = new List<MaintenanceEvent>();
            var index = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                if (!TryParseMaintenanceEvent(element, out var maintenanceEvent, out var failure))
                {
                    return MetadataReading.Unknown<IReadOnlyList<MaintenanceEvent>>($"{Item} entry {index}: {failure}");
                }

                events.Add(maintenanceEvent);
                index++;
            }

            return MetadataReading.Present<IReadOnlyList<MaintenanceEvent>>(events);
        }
        catch (JsonException e)
        {
            return MetadataReading.Unknown<IReadOnlyList<MaintenanceEvent>>($"{Item} is not valid JSON: {e.Message}");
        }
    }

    public static MetadataReading<InstanceIdentity> ParseIdentity(string document, string lifecycle) =>
        ParseObject(document, "instance-identity/document", root =>
        {
            var missing = new List<string>();
            var instanceId = Required(root, "instanceId", missing);
            var instanceType = Required(root, "instanceType", missing);
            var zone = Required(root, "availabilityZone", missing);
            var region = Required(root, "region", missing);
            if (missing.Count > 0)
            {
                return MetadataReading.Unknown<InstanceIdentity>($"instance-identity/document lacks {string.Join(", ", missing)}");
            }

            var life = lifecycle.Trim();
            return life.Length == 0
                ? MetadataReading.Unknown<InstanceIdentity>("instance-life-cycle is empty")
                : MetadataReading.Present(new InstanceIdentity(instanceId, instanceType, zone, region, life));
        });

    internal static bool TryParseAction(string text, out InstanceActionKind kind)
    {
        // Exactly the three documented words (case aside); anything else is not a notice.
        switch (text.Trim().ToUpperInvariant())
        {
            case "TERMINATE":
                kind = InstanceActionKind.Terminate;
                return true;
            case "STOP":
                kind = InstanceActionKind.Stop;
                return true;
            case "HIBERNATE":
                kind = InstanceActionKind.Hibernate;
                return true;
            default:
                kind = default;
                return false;
        }
    }

    internal static bool TryParseMaintenanceTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(
            text.Trim(),
            MaintenanceTimeFormat,
            CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal | DateTimeStyles.AllowInnerWhite,
            out time);

    private static MetadataReading<T> ParseObject<T>(string body, string item, Func<JsonElement, MetadataReading<T>> read)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? read(document.RootElement)
                : MetadataReading.Unknown<T>($"{item} is {document.RootElement.ValueKind}, not a JSON object");
        }
        catch (JsonException e)
        {
            return MetadataReading.Unknown<T>($"{item} is not valid JSON: {e.Message}");
        }
    }

    private static bool TryParseMaintenanceEvent(JsonElement element, out MaintenanceEvent maintenanceEvent, out string failure)
    {
        maintenanceEvent = null!;
        if (element.ValueKind != JsonValueKind.Object)
        {
            failure = $"is {element.ValueKind}, not an object";
            return false;
        }

        var missing = new List<string>();
        var eventId = Required(element, "EventId", missing);
        var code = Required(element, "Code", missing);
        var state = Required(element, "State", missing);
        var notBeforeText = Required(element, "NotBefore", missing);
        if (missing.Count > 0)
        {
            failure = $"lacks {string.Join(", ", missing)}";
            return false;
        }

        if (!TryParseMaintenanceTime(notBeforeText, out var notBefore))
        {
            failure = $"NotBefore '{Printable(notBeforeText)}' is not a time like '21 Jan 2019 09:00:43 GMT'";
            return false;
        }

        DateTimeOffset? notAfter = null;
        if (TryGetString(element, "NotAfter", out var notAfterText) && !string.IsNullOrWhiteSpace(notAfterText))
        {
            if (!TryParseMaintenanceTime(notAfterText, out var parsed))
            {
                failure = $"NotAfter '{Printable(notAfterText)}' is not a time like '21 Jan 2019 09:17:23 GMT'";
                return false;
            }

            notAfter = parsed;
        }

        var description = TryGetString(element, "Description", out var d) ? d : "";
        maintenanceEvent = new MaintenanceEvent(eventId, code, state, notBefore, notAfter, description);
        failure = "";
        return true;
    }

    private static bool TryGetRfc3339(JsonElement root, string name, out DateTimeOffset time, out string failure)
    {
        time = default;
        if (!TryGetString(root, name, out var text))
        {
            failure = $"no \"{name}\" string";
            return false;
        }

        if (!DateTimeOffset.TryParseExact(
                text.Trim(),
                Rfc3339Formats,
                CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                out time))
        {
            failure = $"\"{name}\" '{Printable(text)}' is not an RFC 3339 time";
            return false;
        }

        failure = "";
        return true;
    }

    private static string Required(JsonElement element, string name, List<string> missing)
    {
        if (TryGetString(element, name, out var value) && !string.IsNullOrWhiteSpace(value))
        {
            return value.Trim();
        }

        missing.Add(name);
        return "";
    }

    /// <summary>The property's string value; the exact name first, then ignoring case.</summary>
    private static bool TryGetString(JsonElement element, string name, out string value)
    {
        if (!element.TryGetProperty(name, out var property))
        {
            property = default;
            foreach (var candidate in element.EnumerateObject())
            {
                if (string.Equals(candidate.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    property = candidate.Value;
                    break;
                }
            }
        }

        if (property.ValueKind == JsonValueKind.String)
        {
            value = property.GetString() ?? "";
            return true;
        }

        value = "";
        return false;
    }

    /// <summary>A bounded, single-line excerpt of a value for a log line.</summary>
    private static string Printable(string text)
    {
        var cut = text.Length > 40 ? text[..40] + "..." : text;
        return new string(cut.Select(c => char.IsControl(c) ? '?' : c).ToArray());
    }
}
