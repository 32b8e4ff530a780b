namespace SpotDevBox.Backup.Storage;

/// <summary>Where a repository lives: <c>s3://bucket/prefix</c>, <c>file:///path</c> or a plain path.</summary>
public sealed record RepositoryLocation(RepositoryKind Kind, string Bucket, string Prefix, string LocalPath)
{
    public static RepositoryLocation Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.Trim();
        if (text.Length == 0)
        {
            throw new FormatException("the repository is empty; give s3://bucket/prefix, file:///path or a directory path");
        }

        if (text.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            var rest = text["s3://".Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var bucket = slash < 0 ? rest : rest[..slash];
            var prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
            if (!IsValidBucketName(bucket))
            {
                throw new FormatException($"'{bucket}' is not a valid S3 bucket name (3-63 characters: lowercase letters, digits, '.', '-')");
            }

            return new RepositoryLocation(RepositoryKind.S3, bucket, prefix, "");
        }

        if (text.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            var path = Uri.UnescapeDataString(text["file://".Length..]);
            if (path.Length == 0 || !Path.IsPathRooted(path))
            {
                throw new FormatException($"'{value}' is not an absolute file URL; use file:///absolute/path");
            }

            return new RepositoryLocation(RepositoryKind.Local, "", "", Path.GetFullPath(path));
        }

        if (text.Contains("://", StringComparison.Ordinal))
        {
            throw new FormatException($"'{value}' uses an unknown scheme; use s3://bucket/prefix, file:///path or a directory path");
        }

        return new RepositoryLocation(RepositoryKind.Local, "", "", Path.GetFullPath(text));
    }

    public override string ToString() => Kind == RepositoryKind.S3
        ? (Prefix.Length == 0 ? $"s3://{Bucket}" : $"s3://{Bucket}/{Prefix}")
        : LocalPath;

    private static bool IsValidBucketName(string bucket) =>
        bucket.Length is >= 3 and <= 63
        && bucket.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-')
        && char.IsAsciiLetterOrDigit(bucket[0]) && char.IsAsciiLetterOrDigit(bucket[^1]);
}

public enum RepositoryKind
{
    Local,
    S3,
}
