using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace SpotDevBox.Core.Ssh;

/// <summary>
/// One SSH host public key as <c>known_hosts</c> and the box's <c>host-keys.pub</c> hold it: the key type and
/// the base64 key blob, never a comment or a host name (<c>ssh-ed25519 AAAAC3Nz...</c>).
/// </summary>
public sealed partial record HostPublicKey
{
    private HostPublicKey(string keyType, string base64)
    {
        KeyType = keyType;
        Base64 = base64;
    }

    /// <summary>e.g. <c>ssh-ed25519</c>, <c>ecdsa-sha2-nistp256</c>, <c>ssh-rsa</c>.</summary>
    public string KeyType { get; }

    public string Base64 { get; }

    /// <summary>
    /// A line of an <c>ssh_host_*_key.pub</c> file or of <c>host-keys.pub</c>: <c>&lt;keytype&gt; &lt;base64&gt; [comment]</c>.
    /// Null unless the blob decodes and starts with the same key type, as SSH's wire format does: a private
    /// key, an options prefix, a marker or anything else that is not one public key never passes.
    /// </summary>
    public static HostPublicKey? TryParse(string? line)
    {
        var fields = (line ?? "").Split([' ', '\t'], 3, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length < 2 || !KeyTypeName().IsMatch(fields[0]))
        {
            return null;
        }

        var (type, base64) = (fields[0], fields[1]);
        var blob = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, blob, out var length) || length < 4)
        {
            return null;
        }

        // The blob is an SSH string (uint32 length, then the name) followed by the key: its name must be the type.
        var nameLength = BinaryPrimitives.ReadUInt32BigEndian(blob);
        if (nameLength != type.Length || length < 4 + nameLength + 1 || Encoding.ASCII.GetString(blob, 4, (int)nameLength) != type)
        {
            return null;
        }

        return new HostPublicKey(type, base64);
    }

    /// <summary>
    /// Every key in a <c>host-keys.pub</c> document, in order, each once; the 1-based numbers of the lines that
    /// are not a public key (blank lines are neither).
    /// </summary>
    public static (IReadOnlyList<HostPublicKey> Keys, IReadOnlyList<int> BadLines) ParseList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var keys = new List<HostPublicKey>();
        var bad = new List<int>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            if (TryParse(lines[i]) is { } key)
            {
                if (!keys.Contains(key))
                {
                    keys.Add(key);
                }
            }
            else
            {
                bad.Add(i + 1);
            }
        }

        return (keys, bad);
    }

    /// <summary>One <c>&lt;keytype&gt; &lt;base64&gt;</c> line per key, each ending in a newline.</summary>
    public static string FormatList(IEnumerable<HostPublicKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var text = new StringBuilder();
        foreach (var key in keys)
        {
            text.Append(key).Append('\n');
        }

        return text.ToString();
    }

    public override string ToString() => KeyType + " " + Base64;

    // ssh-ed25519, ecdsa-sha2-nistp256, rsa-sha2-512, sk-ssh-ed25519@openssh.com: no spaces, no markers.
    [GeneratedRegex("^[a-z0-9][a-z0-9@.-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyTypeName();
}
