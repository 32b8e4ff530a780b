namespace SpotDevBox.Backup.Crypto;

/// <summary>Why a sealed object did not open.</summary>
public enum SealedObjectFailure
{
    /// <summary>Shorter than a header and a tag: cut off, or not a sealed object at all.</summary>
    Truncated,

    /// <summary>Does not start with the sealed-object magic: not a sealed object (a version 2 object, or other bytes).</summary>
    NotSealed,

    /// <summary>A sealed-object format this build does not know.</summary>
    UnknownFormat,

    /// <summary>
    /// The tag does not match: a byte was changed or cut off, or the object belongs to another repository,
    /// is another kind of object, or was sealed under another master key.
    /// </summary>
    NotAuthentic,
}

/// <summary>
/// A sealed object that did not open: damage to the object read (the engine's readers, which catch
/// <see cref="InvalidDataException"/> for damage today, catch this too). The message names the kind and
/// the failure, never a key or any byte of the object.
/// </summary>
public sealed class SealedObjectException : System.Security.Cryptography.CryptographicException
{
    public SealedObjectException(ObjectKind kind, SealedObjectFailure failure, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Failure = failure;
    }

    public ObjectKind Kind { get; }

    public SealedObjectFailure Failure { get; }
}
