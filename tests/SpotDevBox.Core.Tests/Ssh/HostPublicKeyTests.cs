using SpotDevBox.Core.Ssh;

namespace SpotDevBox.Core.Tests.Ssh;

public sealed class HostPublicKeyTests
{
    // Generated with ssh-keygen for these tests.
    private const string Ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJM8Nz4yV2sIrC07ILVxZNJrbJq5WBq8PFxERZsKv+YI";
    private const string Ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAKu16kmyDq3H+HuIASZf0/gIjokI2d5z3KyIGiCd//wuo5w/lOutoGeHkLm/Ps2k89C8SSOZInCBYvXQa8+FcM=";

    [Theory]
    [InlineData(Ed25519 + " root@ip-10-0-1-23", Ed25519)]
    [InlineData(Ed25519, Ed25519)]
    [InlineData("  " + Ecdsa + "\troot@host  extra words\r", Ecdsa)]
    public void TryParse_PublicKeyLine_KeepsTypeAndKeyWithoutComment(string line, string expected)
    {
        Assert.Equal(expected, HostPublicKey.TryParse(line)?.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("ssh-ed25519")]
    [InlineData("-----BEGIN OPENSSH PRIVATE KEY-----")]
    [InlineData("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW")]
    // The blob names ssh-ed25519, the line claims ssh-rsa.
    [InlineData("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIJM8Nz4yV2sIrC07ILVxZNJrbJq5WBq8PFxERZsKv+YI")]
    [InlineData("ssh-ed25519 not-base64!")]
    // known_hosts markers and options are not keys.
    [InlineData("@cert-authority * " + Ed25519)]
    [InlineData("spotdevbox-alice " + Ed25519)]
    public void TryParse_NotOnePublicKey_IsNull(string line)
    {
        Assert.Null(HostPublicKey.TryParse(line));
    }

    [Fact]
    public void ParseList_MixedDocument_KeysInOrderOnceAndTheBadLineNumbers()
    {
        var (keys, bad) = HostPublicKey.ParseList($"{Ecdsa}\n\ngarbage\n{Ed25519} comment\n{Ecdsa}\n");

        Assert.Equal([Ecdsa, Ed25519], keys.Select(k => k.ToString()));
        Assert.Equal([3], bad);
    }

    [Fact]
    public void FormatList_Keys_OneLineEach()
    {
        var keys = new[] { HostPublicKey.TryParse(Ed25519)!, HostPublicKey.TryParse(Ecdsa)! };

        Assert.Equal(Ed25519 + "\n" + Ecdsa + "\n", HostPublicKey.FormatList(keys));
    }
}
