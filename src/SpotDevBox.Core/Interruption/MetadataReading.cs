namespace SpotDevBox.Core.Interruption;

/// <summary>
/// One read of a metadata item: <see cref="Present"/> with its value, <see cref="Absent"/> (the service
/// answered 404: no event) or <see cref="Unknown"/> (the service could not be read or its answer not
/// understood: 401 after a retry, 403, 429, 5xx, timeout, refused connection, malformed body).
/// Unknown is never a notice and never "no notice"; the watcher keeps polling.
/// </summary>
/// <example><code>
/// switch (reading)
/// {
///     case MetadataReading&lt;InstanceAction&gt;.Present(var action): ...
///     case MetadataReading&lt;InstanceAction&gt;.Absent: ...
///     case MetadataReading&lt;InstanceAction&gt;.Unknown(var reason): ...
/// }
/// </code></example>
public abstract record MetadataReading<T>
{
    // The three cases below are the only ones: a switch over them needs no other arm than the discard.
    private MetadataReading()
    {
    }

    public sealed record Present(T Value) : MetadataReading<T>;

    public sealed record Absent : MetadataReading<T>;

    /// <param name="Reason">For people: what failed, without secrets (never the session token).</param>
    public sealed record Unknown(string Reason) : MetadataReading<T>;
}

/// <summary>Factories that infer the type argument.</summary>
public static class MetadataReading
{
    public static MetadataReading<T> Present<T>(T value) => new MetadataReading<T>.Present(value);

    public static MetadataReading<T> Absent<T>() => new MetadataReading<T>.Absent();

    public static MetadataReading<T> Unknown<T>(string reason) => new MetadataReading<T>.Unknown(reason);
}
