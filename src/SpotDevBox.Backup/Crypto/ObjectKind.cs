namespace SpotDevBox.Backup.Crypto;

/// <summary>
/// What a sealed object is. The kind is part of the associated data, so an object sealed as one kind
/// never opens as another (a data blob served where a tree blob is expected, an index file offered as
/// a snapshot). The byte values are part of the format: never renumber, only add.
/// </summary>
public enum ObjectKind : byte
{
    /// <summary>A data blob inside a pack (file content).</summary>
    DataBlob = 1,

    /// <summary>A tree blob inside a pack (a directory listing).</summary>
    TreeBlob = 2,

    /// <summary>The header at the end of a pack that lists its blobs.</summary>
    PackHeader = 3,

    /// <summary>An index file.</summary>
    Index = 4,

    /// <summary>A snapshot manifest.</summary>
    Snapshot = 5,

    /// <summary>Secret key material stored as its own object (a box's SSH host private keys).</summary>
    KeyMaterial = 6,
}
