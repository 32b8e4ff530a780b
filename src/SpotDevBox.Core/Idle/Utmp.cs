using System.Buffers.Binary;
using System.Text;

namespace SpotDevBox.Core.Idle;

/// <summary>A login recorded in /run/utmp.</summary>
internal sealed record UtmpEntry(int Pid, string Line, string User, string Host, DateTimeOffset LoginTime);

/// <summary>
/// Reads /run/utmp: glibc's struct utmp on Linux x86_64 and aarch64, 384 bytes a record
/// (ut_type:2, pad:2, ut_pid:4, ut_line:32, ut_id:4, ut_user:32, ut_host:256, ut_exit:4, ut_session:4,
/// ut_tv:8 as two 32-bit fields, ut_addr_v6:16, reserved:20), little-endian.
/// </summary>
internal static class Utmp
{
    public const int RecordSize = 384;
    public const short UserProcess = 7;

    public static List<UtmpEntry> ReadUserProcesses(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No utmp (a minimal image, or logind-only accounting): no sessions seen this way.
            return [];
        }

        var result = new List<UtmpEntry>();
        for (var offset = 0; offset + RecordSize <= data.Length; offset += RecordSize)
        {
            var record = data.AsSpan(offset, RecordSize);
            if (BinaryPrimitives.ReadInt16LittleEndian(record) != UserProcess)
            {
                continue;
            }

            var seconds = BinaryPrimitives.ReadInt32LittleEndian(record[340..]);
            result.Add(new UtmpEntry(
                BinaryPrimitives.ReadInt32LittleEndian(record[4..]),
                CString(record.Slice(8, 32)),
                CString(record.Slice(44, 32)),
                CString(record.Slice(76, 256)),
                DateTimeOffset.FromUnixTimeSeconds((uint)seconds)));
        }

        return result;
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }
}
