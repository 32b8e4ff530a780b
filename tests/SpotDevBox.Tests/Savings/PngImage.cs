using System.Buffers.Binary;
using System.IO.Compression;

namespace SpotDevBox.Tests.Savings;

/// <summary>
/// Just enough of PNG to read Chromium's screenshots: 8-bit RGB or RGBA, not interlaced; the IDAT stream inflated with
/// ZLibStream and each row unfiltered (filters 0-4 of the PNG specification).
/// </summary>
internal sealed class PngImage
{
    private readonly byte[] _pixels;
    private readonly int _channels;

    private PngImage(int width, int height, int channels, byte[] pixels)
    {
        Width = width;
        Height = height;
        _channels = channels;
        _pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    public (byte R, byte G, byte B) this[int x, int y]
    {
        get
        {
            var i = ((y * Width) + x) * _channels;
            return (_pixels[i], _pixels[i + 1], _pixels[i + 2]);
        }
    }

    public static PngImage Read(byte[] png)
    {
        Assert.True(png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }), "not a PNG");
        int width = 0, height = 0, channels = 0;
        using var data = new MemoryStream();
        for (var at = 8; at < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            var body = png.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                (width, height) = (BinaryPrimitives.ReadInt32BigEndian(body), BinaryPrimitives.ReadInt32BigEndian(body[4..]));
                Assert.True(body[8] == 8 && body[12] == 0, $"only 8-bit, non-interlaced PNGs are read, got depth {body[8]}, interlace {body[12]}");
                channels = body[9] switch
                {
                    2 => 3,
                    6 => 4,
                    var other => throw new NotSupportedException($"PNG colour type {other}"),
                };
            }
            else if (type == "IDAT")
            {
                data.Write(body);
            }

            at += 12 + length;
        }

        data.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(data, CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }

        var raw = inflated.ToArray();
        var stride = width * channels;
        var pixels = new byte[stride * height];
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            var row = raw.AsSpan((y * (stride + 1)) + 1, stride);
            for (var i = 0; i < stride; i++)
            {
                int left = i >= channels ? pixels[(y * stride) + i - channels] : 0;
                int up = y > 0 ? pixels[((y - 1) * stride) + i] : 0;
                int upLeft = y > 0 && i >= channels ? pixels[((y - 1) * stride) + i - channels] : 0;
                var predicted = filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new InvalidDataException($"PNG filter {filter}"),
                };
                pixels[(y * stride) + i] = (byte)(row[i] + predicted);
            }
        }

        return new PngImage(width, height, channels, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        var (pa, pb, pc) = (Math.Abs(p - a), Math.Abs(p - b), Math.Abs(p - c));
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
