using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using SpotDevBox.Hosting;
using TestSupport;

namespace SpotDevBox.Tests.Hosting;

/// <summary>The "Serilog" section as config/spotdevbox.json documents it: a minimum level and overrides per source.</summary>
public sealed class SerilogSettingsTests
{
    [Fact]
    public void ApplyMinimumLevels_ShippedConfiguration_InformationButWarningsOnlyFromTheLibraries()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(S3PeerFixture.RepositoryRoot, "config", "spotdevbox.json"))
            .Build();

        var seen = Log(configuration, ("SpotDevBox.Agent.BootRestore", LogEventLevel.Information), ("SpotDevBox.Agent.BootRestore", LogEventLevel.Debug),
            ("Amazon.S3.AmazonS3Client", LogEventLevel.Information), ("Amazon.S3.AmazonS3Client", LogEventLevel.Warning),
            ("Quartz.Core.QuartzScheduler", LogEventLevel.Information), ("Microsoft.Hosting.Lifetime", LogEventLevel.Information),
            ("System.Net.Http.HttpClient", LogEventLevel.Information));

        Assert.Equal(["SpotDevBox.Agent.BootRestore Information", "Amazon.S3.AmazonS3Client Warning"], seen);
    }

    [Fact]
    public void ApplyMinimumLevels_OneLevelForAll_AnyCase()
    {
        var seen = Log(Settings(("Serilog:MinimumLevel", "debug")), ("SpotDevBox.X", LogEventLevel.Debug), ("Amazon.Y", LogEventLevel.Verbose));

        Assert.Equal(["SpotDevBox.X Debug"], seen);
    }

    [Fact]
    public void ApplyMinimumLevels_OverrideFromTheEnvironmentStyleKey_Applies()
    {
        var seen = Log(
            Settings(("Serilog:MinimumLevel:Default", "Warning"), ("Serilog:MinimumLevel:Override:SpotDevBox.Agent", "Verbose")),
            ("SpotDevBox.Agent.Notifier", LogEventLevel.Verbose), ("SpotDevBox.Commands.BackupCommand", LogEventLevel.Information));

        Assert.Equal(["SpotDevBox.Agent.Notifier Verbose"], seen);
    }

    [Fact]
    public void ApplyMinimumLevels_NoSection_SerilogsDefaultOfInformation()
    {
        var seen = Log(Settings(), ("SpotDevBox.X", LogEventLevel.Information), ("SpotDevBox.X", LogEventLevel.Debug));

        Assert.Equal(["SpotDevBox.X Information"], seen);
    }

    [Theory]
    [InlineData("Serilog:WriteTo:0:Name", "Console", "Serilog:WriteTo is not a setting")]
    [InlineData("Serilog:MinimumLevel:Default", "Loud", "Serilog:MinimumLevel:Default must be a Serilog level (Verbose, Debug, Information, Warning, Error or Fatal), got 'Loud'")]
    [InlineData("Serilog:MinimumLevel:Default", "2", "Serilog:MinimumLevel:Default must be a Serilog level (Verbose, Debug, Information, Warning, Error or Fatal), got '2'")]
    [InlineData("Serilog:MinimumLevel:Override:Amazon", "Quiet", "Serilog:MinimumLevel:Override:Amazon must be a Serilog level (Verbose, Debug, Information, Warning, Error or Fatal), got 'Quiet'")]
    [InlineData("Serilog:MinimumLevel:ControlledBy", "$switch", "Serilog:MinimumLevel:ControlledBy is not a setting")]
    public void ApplyMinimumLevels_WhatIsNotRead_RefusedNamingTheKey(string key, string value, string expected)
    {
        var e = Assert.Throws<OptionsValidationException>(() => SerilogSettings.ApplyMinimumLevels(new LoggerConfiguration().MinimumLevel, Settings((key, value))));

        Assert.StartsWith(expected, Assert.Single(e.Failures), StringComparison.Ordinal);
    }

    private static IConfiguration Settings(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    private static List<string> Log(IConfiguration configuration, params (string Source, LogEventLevel Level)[] events)
    {
        var sink = new Collector();
        var configured = new LoggerConfiguration();
        SerilogSettings.ApplyMinimumLevels(configured.MinimumLevel, configuration);
        using (var logger = configured.WriteTo.Sink(sink).CreateLogger())
        {
            foreach (var (source, level) in events)
            {
                logger.ForContext(Constants.SourceContextPropertyName, source).Write(level, "event");
            }
        }

        return sink.Seen;
    }

    private sealed class Collector : ILogEventSink
    {
        public List<string> Seen { get; } = [];

        public void Emit(LogEvent logEvent) =>
            Seen.Add($"{((ScalarValue)logEvent.Properties[Constants.SourceContextPropertyName]).Value} {logEvent.Level}");
    }
}
