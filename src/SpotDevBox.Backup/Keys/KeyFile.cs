using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace SpotDevBox.Backup.Keys;

/// <summary>
/// A wrapped copy of the repository's master key, stored at keys/&lt;sha256 of the file's bytes&gt; as JSON
/// (docs/security.md, "Keys"). Either <see cref="Argon2id"/> and <see cref="Nonce"/> (kind "passphrase": the
/// Argon2id-derived key wraps the master key with AES-256-GCM) or <see cref="Kms"/> (kind "kms": AWS KMS
/// encrypted it under an encryption context). Every field but the wrapped bytes, the nonce and the seal is bound to them
/// (<see cref="AssociatedData"/>), so no field can be changed without opening failing.
/// </summary>
public sealed record KeyFile
{
    public const int CurrentVersion = 1;
    public const string PassphraseKind = "passphrase";
    public const string KmsKind = "kms";

    public required int Version { get; init; }
    public required string Kind { get; init; }
    public required DateTimeOffset Created { get; init; }

    /// <summary>Who added it (user@host), for people choosing which key to remove.</summary>
    public required string Label { get; init; }

    public KeyFileArgon2id? Argon2id { get; init; }
    public KeyFileKms? Kms { get; init; }

    /// <summary>AES-GCM's 12-byte nonce (passphrase keys only).</summary>
    public byte[]? Nonce { get; init; }

    /// <summary>
    /// KMS keys: HMAC-SHA-256 of <see cref="AssociatedData"/> under the master key, checked after KMS decrypts,
    /// so the label, time and ARN cannot be changed either (KMS's own context stays what the key policy tests).
    /// </summary>
    public byte[]? Seal { get; init; }

    /// <summary>Passphrase: the master key's AES-GCM ciphertext and 16-byte tag. KMS: KMS's ciphertext blob.</summary>
    public required byte[] Wrapped { get; init; }

    /// <summary>
    /// The fixed fields as bytes, each length-prefixed so no two key files share them: AES-GCM's associated data
    /// (passphrase), under the HMAC <see cref="Seal"/> (kms).
    /// </summary>
    internal byte[] AssociatedData()
    {
        var fields = new List<string>
        {
            "spotdevbox key file",
            Version.ToString(CultureInfo.InvariantCulture),
            Kind,
            Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
            Label,
        };
        if (Argon2id is { } a)
        {
            fields.Add("argon2id");
            fields.Add(a.MemoryKib.ToString(CultureInfo.InvariantCulture));
            fields.Add(a.Iterations.ToString(CultureInfo.InvariantCulture));
            fields.Add(a.Parallelism.ToString(CultureInfo.InvariantCulture));
            fields.Add(Convert.ToHexStringLower(a.Salt));
        }

        if (Kms is { } k)
        {
            fields.Add("kms");
            fields.Add(k.KeyArn);
            foreach (var (name, value) in k.Context.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                fields.Add(name);
                fields.Add(value);
            }
        }

        using var buffer = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        foreach (var field in fields)
        {
            var bytes = Encoding.UTF8.GetBytes(field);
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            buffer.Write(length);
            buffer.Write(bytes);
        }

        return buffer.ToArray();
    }
}

public sealed record KeyFileArgon2id
{
    public required int MemoryKib { get; init; }
    public required int Iterations { get; init; }
    public required int Parallelism { get; init; }
    public required byte[] Salt { get; init; }

    public Argon2idParameters Parameters => new(MemoryKib, Iterations, Parallelism);
}

public sealed record KeyFileKms
{
    public required string KeyArn { get; init; }
    public required IReadOnlyDictionary<string, string> Context { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    IgnoreReadOnlyProperties = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    WriteIndented = true)]
[JsonSerializable(typeof(KeyFile))]
internal sealed partial class KeyJson : JsonSerializerContext;
