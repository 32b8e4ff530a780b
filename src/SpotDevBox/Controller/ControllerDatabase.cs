using System.Text.RegularExpressions;
using Npgsql;

namespace SpotDevBox.Controller;

/// <summary>
/// Where the controller keeps its state, as <c>Controller:Database</c> says: a PostgreSQL connection string (a
/// <c>postgres://</c> or <c>postgresql://</c> URI, or Npgsql's key=value form with <c>Host=</c>), else the path of an
/// SQLite file, empty meaning the default file (<see cref="ControllerStorePath"/>).
/// </summary>
/// <remarks>
/// A connection string may hold a password: no message, log or exception text built here or from here carries the
/// value, only the setting's name (<see cref="Describe"/>).
/// </remarks>
internal abstract partial record ControllerDatabase
{
    public const string Setting = "Controller:Database";

    /// <summary>What a message names: the file, or the setting for a PostgreSQL database (never its value).</summary>
    public abstract string Describe { get; }

    /// <summary>An SQLite file, as a full path.</summary>
    public sealed record SqliteFile(string Path) : ControllerDatabase
    {
        public override string Describe => Path;
    }

    /// <summary>A PostgreSQL database, as an Npgsql key=value connection string.</summary>
    public sealed record Postgres(string ConnectionString) : ControllerDatabase
    {
        public const string Description = "the PostgreSQL database in " + Setting;

        public override string Describe => Description;

        // Not the record's generated ToString, which would print the connection string.
        public override string ToString() => Description;
    }

    /// <summary>As the controller and the verbs that read its ledger find it; SPOTDEVBOX_CONFIG places the default file.</summary>
    public static ControllerDatabase Resolve(string? setting) =>
        Resolve(setting, Environment.GetEnvironmentVariable("SPOTDEVBOX_CONFIG"));

    /// <exception cref="ArgumentException">A PostgreSQL form that does not parse or lacks Host or Database (exit code 2).</exception>
    internal static ControllerDatabase Resolve(string? setting, string? configFile)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return new SqliteFile(ControllerStorePath.Default(configFile));
        }

        var value = setting.Trim();
        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return new Postgres(FromUri(value));
        }

        if (HostKey().IsMatch(value))
        {
            return new Postgres(Validated(value));
        }

        return new SqliteFile(System.IO.Path.GetFullPath(setting));
    }

    // Npgsql's key=value form: Host= as the first key or after a ';' (a file path holding "host=" elsewhere stays a path).
    [GeneratedRegex(@"(^|;)\s*Host\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HostKey();

    private static ArgumentException Invalid(string what) =>
        new($"{Setting} is not a valid PostgreSQL connection string ({what}); write it as Host=...;Database=...;Username=... or postgresql://user@host:port/database (docs/controller.md, State), the password kept out of the file in PGPASSWORD or a Passfile");

    private static string Validated(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // Npgsql's own message may quote the text: only its kind is named.
            throw Invalid("it does not parse as key=value pairs Npgsql knows");
        }

        return Checked(builder);
    }

    private static string Checked(NpgsqlConnectionStringBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw Invalid("no Host");
        }

        if (string.IsNullOrWhiteSpace(builder.Database))
        {
            throw Invalid("no Database");
        }

        return builder.ConnectionString;
    }

    /// <summary>libpq's URI form, which Npgsql does not read itself: user, password, host, port, database and the common query keys.</summary>
    private static string FromUri(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw Invalid("the URI does not parse or names no host");
        }

        var builder = new NpgsqlConnectionStringBuilder();
        try
        {
            builder.Host = uri.Host;
            if (!uri.IsDefaultPort && uri.Port > 0)
            {
                builder.Port = uri.Port;
            }

            if (uri.UserInfo.Length > 0)
            {
                var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
                builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
                if (colon >= 0)
                {
                    builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
                }
            }

            builder.Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
            foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
                var text = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
                builder[UriKey(key)] = text;
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException or KeyNotFoundException)
        {
            throw Invalid("a part of the URI is not a setting Npgsql knows");
        }

        return Checked(builder);
    }

    // libpq's query keys that Npgsql spells otherwise; any other key is passed as it is (Npgsql refuses unknown ones).
    private static string UriKey(string key) => key.ToLowerInvariant() switch
    {
        "sslmode" => "SSL Mode",
        "application_name" => "Application Name",
        "connect_timeout" => "Timeout",
        "passfile" => "Passfile",
        "target_session_attrs" => "Target Session Attributes",
        _ => key,
    };
}
