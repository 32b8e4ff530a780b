using System.Reflection;

namespace SpotDevBox.Controller;

/// <summary>
/// The tables of Quartz's clustered job store, as Quartz itself ships them: the controllers of a cluster share their
/// triggers through these. Created by the store's migrations (PostgreSQL only) rather than by Quartz at start, so that
/// one migration, under the migration lock, makes the whole schema; Quartz then only checks it (<c>Validate</c>).
/// </summary>
internal static class QuartzSchema
{
    /// <summary>The tables' prefix, as the job store is configured with it (<see cref="ControllerCluster"/>).</summary>
    public const string TablePrefix = "qrtz_";

    /// <summary>The script in Quartz's assembly: "CREATE ... IF NOT EXISTS" statements, <c>{0}</c> and <c>{1}</c> for the prefix.</summary>
    internal const string PostgresResource = "Quartz.Impl.AdoJobStore.Schema.create_postgres.sql";

    public static string Postgres()
    {
        var assembly = typeof(Quartz.IJob).Assembly;
        using var stream = assembly.GetManifestResourceStream(PostgresResource)
            ?? throw new InvalidOperationException(
                $"Quartz {assembly.GetName().Version} does not ship '{PostgresResource}': the controller's migrations need its job store's PostgreSQL schema");
        using var reader = new StreamReader(stream);
        // Its pieces are separated by lines reading "--;;", which PostgreSQL takes as comments: one batch as it stands.
        return reader.ReadToEnd().Replace("{0}", TablePrefix, StringComparison.Ordinal).Replace("{1}", TablePrefix, StringComparison.Ordinal);
    }
}
