using Npgsql;
using SpotDevBox.Controller;

namespace SpotDevBox.Tests.Controller;

public sealed class ControllerDatabaseTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Resolve_Empty_DefaultFileBesideTheConfiguration(string? setting)
    {
        var database = ControllerDatabase.Resolve(setting, "/etc/spotdevbox/controller.json");

        Assert.Equal(new ControllerDatabase.SqliteFile("/etc/spotdevbox/spotdevbox.db"), database);
    }

    [Theory]
    [InlineData("/var/lib/spotdevbox/controller.db", "/var/lib/spotdevbox/controller.db")]
    // "host=" inside a path is not a key of a connection string.
    [InlineData("/srv/host=a/controller.db", "/srv/host=a/controller.db")]
    public void Resolve_Path_SqliteFile(string setting, string expected)
    {
        Assert.Equal(new ControllerDatabase.SqliteFile(expected), ControllerDatabase.Resolve(setting, null));
    }

    [Fact]
    public void Resolve_RelativePath_FullPathFromTheWorkingDirectory()
    {
        Assert.Equal(new ControllerDatabase.SqliteFile(Path.Join(Environment.CurrentDirectory, "state", "c.db")), ControllerDatabase.Resolve(Path.Join("state", "c.db"), null));
    }

    [Theory]
    [InlineData("Host=db.internal;Database=spotdevbox;Username=controller")]
    [InlineData("host=db.internal; database=spotdevbox; username=controller")]
    [InlineData("Username=controller;Host=db.internal;Database=spotdevbox")]
    public void Resolve_KeyValueWithHost_Postgres(string setting)
    {
        var database = Assert.IsType<ControllerDatabase.Postgres>(ControllerDatabase.Resolve(setting, null));

        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        Assert.Equal("db.internal", builder.Host);
        Assert.Equal("spotdevbox", builder.Database);
        Assert.Equal("controller", builder.Username);
        Assert.Equal("the PostgreSQL database in Controller:Database", database.Describe);
    }

    [Theory]
    [InlineData("postgresql://controller:pa%3Bss@db.internal:5433/spotdevbox?sslmode=require&application_name=spotdevbox")]
    [InlineData("POSTGRES://controller:pa%3Bss@db.internal:5433/spotdevbox?sslmode=require&application_name=spotdevbox")]
    public void Resolve_Uri_PostgresWithEveryPart(string setting)
    {
        var database = Assert.IsType<ControllerDatabase.Postgres>(ControllerDatabase.Resolve(setting, null));

        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        Assert.Equal("db.internal", builder.Host);
        Assert.Equal(5433, builder.Port);
        Assert.Equal("controller", builder.Username);
        Assert.Equal("pa;ss", builder.Password);
        Assert.Equal("spotdevbox", builder.Database);
        Assert.Equal(SslMode.Require, builder.SslMode);
        Assert.Equal("spotdevbox", builder.ApplicationName);
    }

    [Fact]
    public void Resolve_UriWithoutPort_PostgresDefaultPort()
    {
        var database = Assert.IsType<ControllerDatabase.Postgres>(ControllerDatabase.Resolve("postgres://db.internal/spotdevbox", null));

        Assert.Equal(5432, new NpgsqlConnectionStringBuilder(database.ConnectionString).Port);
    }

    [Theory]
    [InlineData("Host=db.internal;Username=controller;Password=s3cret-pw", "no Database")]
    [InlineData("Host=;Database=spotdevbox;Password=s3cret-pw", "no Host")]
    [InlineData("Host=db.internal;Database=spotdevbox;Password=s3cret-pw;Colour=blue", "does not parse")]
    [InlineData("Host=db.internal;Database=spotdevbox;Password=s3cret-pw;Port=many", "does not parse")]
    [InlineData("postgresql://controller:s3cret-pw@db.internal:5432", "no Database")]
    [InlineData("postgresql://controller:s3cret-pw@/spotdevbox", "no host")]
    [InlineData("postgresql://controller:s3cret-pw@db.internal/spotdevbox?colour=blue", "not a setting Npgsql knows")]
    public void Resolve_InvalidPostgres_ArgumentNamingTheSettingNeverTheValue(string setting, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => ControllerDatabase.Resolve(setting, null));

        Assert.StartsWith("Controller:Database is not a valid PostgreSQL connection string (", e.Message, StringComparison.Ordinal);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("db.internal", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Postgres_ToString_NeverTheConnectionString()
    {
        var database = new ControllerDatabase.Postgres("Host=db.internal;Database=spotdevbox;Password=s3cret-pw");

        Assert.Equal("the PostgreSQL database in Controller:Database", database.ToString());
        Assert.DoesNotContain("s3cret-pw", $"{database}", StringComparison.Ordinal);
    }
}
