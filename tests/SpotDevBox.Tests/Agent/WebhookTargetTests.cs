using Microsoft.Extensions.Logging;
using Moq;
using SpotDevBox.Agent;
using SpotDevBox.Core.Agent;

namespace SpotDevBox.Tests.Agent;

/// <summary>Where the webhook URL comes from, and what is logged when its parameter cannot be used: the parameter's name, never its value.</summary>
public sealed class WebhookTargetTests
{
    private const string Parameter = "/spotdevbox/alice/webhook";
    private const string Secret = "https://hooks.example.com/services/T000/B000/SECRETPATH";
    private readonly RecordingLoggerFactory _loggers = new();
    private readonly Mock<ISecretParameters> _parameters = new();

    [Theory]
    [InlineData(SecretParameterOutcome.NotFound, "ParameterNotFound", "No webhook: SSM parameter /spotdevbox/alice/webhook is unusable: it does not exist (ParameterNotFound); create it as a SecureString. Notices go to wall and the log only")]
    [InlineData(SecretParameterOutcome.AccessDenied, "AccessDeniedException", "No webhook: SSM parameter /spotdevbox/alice/webhook is unusable: the box's role may not read or decrypt it (AccessDeniedException); see deploy/README.md. Notices go to wall and the log only")]
    public async Task GetAsync_ParameterMissingOrRefused_NullWarningNamingTheParameterAndNotAskedAgain(SecretParameterOutcome outcome, string reason, string expected)
    {
        Returns(new SecretParameter(outcome, null, reason));
        using var target = Target();

        Assert.Null(await target.GetAsync(CancellationToken.None));
        Assert.Null(await target.GetAsync(CancellationToken.None));

        var warning = Assert.Single(_loggers.Entries);
        Assert.Equal((LogLevel.Warning, 3311, expected), (warning.Level, warning.EventId, warning.Message));
        _parameters.Verify(p => p.ReadAsync(Parameter, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task GetAsync_ValueIsNotAUrl_NullAndTheValueIsNotLogged()
    {
        Returns(new SecretParameter(SecretParameterOutcome.Found, "SECRETPATH-not-a-url", ""));
        using var target = Target();

        Assert.Null(await target.GetAsync(CancellationToken.None));

        var warning = Assert.Single(_loggers.Entries);
        Assert.Contains(Parameter, warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETPATH", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_SsmUnreachableThenAnswers_TriesAgainAndLogsOnlyTheName()
    {
        _parameters.SetupSequence(p => p.ReadAsync(Parameter, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new SecretParameter(SecretParameterOutcome.Failed, null, "SSM could not be reached (HttpRequestException)"))
            .ReturnsAsync(new SecretParameter(SecretParameterOutcome.Found, Secret, ""));
        using var target = Target();

        Assert.Null(await target.GetAsync(CancellationToken.None));
        Assert.Equal(Secret, await target.GetAsync(CancellationToken.None));

        Assert.Equal(
            [
                "SSM parameter /spotdevbox/alice/webhook could not be read yet (SSM could not be reached (HttpRequestException)); trying again at the next notice",
                "Webhook URL read from SSM parameter /spotdevbox/alice/webhook",
            ],
            _loggers.Entries.Select(e => e.Message));
    }

    [Fact]
    public async Task GetAsync_UrlConfigured_UsedWithoutAskingSsm()
    {
        using var target = Target(url: Secret, parameter: "");

        Assert.Equal(Secret, await target.GetAsync(CancellationToken.None));

        _parameters.VerifyNoOtherCalls();
    }

    private void Returns(SecretParameter result) =>
        _parameters.Setup(p => p.ReadAsync(Parameter, It.IsAny<CancellationToken>())).ReturnsAsync(result);

    private WebhookTarget Target(string url = "", string parameter = Parameter) =>
        new(Microsoft.Extensions.Options.Options.Create(new AgentOptions { Box = "s3://bucket/boxes/alice", WebhookUrl = url, WebhookParameter = parameter }),
            _parameters.Object, _loggers.CreateLogger<WebhookTarget>());
}
