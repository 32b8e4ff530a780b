using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Tests.Savings;

public sealed class CsvRecordReaderTests
{
    private static async Task<List<List<string>>> ReadAll(string text, IReadOnlyList<bool>? keep = null)
    {
        var reader = new CsvRecordReader(new StringReader(text));
        var records = new List<List<string>>();
        var fields = new List<string>();
        while (await reader.ReadAsync(fields, keep, CancellationToken.None))
        {
            records.Add([.. fields]);
        }

        return records;
    }

    [Fact]
    public async Task ReadAsync_QuotedCommasDoubledQuotesAndLineBreaks_OneFieldEach()
    {
        var records = await ReadAll("a,\"b, c\",\"say \"\"hi\"\"\"\n\"two\nlines\",,\"\"\n");

        Assert.Equal([["a", "b, c", "say \"hi\""], ["two\nlines", "", ""]], records);
    }

    [Fact]
    public async Task ReadAsync_CrLfAndNoFinalNewline_SameRecords()
    {
        Assert.Equal([["a", "b"], ["c", "d"]], await ReadAll("a,b\r\nc,d"));
    }

    [Fact]
    public async Task ReadAsync_KeepMask_SkippedFieldsEmpty()
    {
        Assert.Equal([["", "b, x", ""]], await ReadAll("\"a\",\"b, x\",c\n", [false, true, false]));
    }

    [Fact]
    public async Task ReadAsync_UnclosedQuote_Throws()
    {
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAll("a,b\n\"c,d\ne\n"));

        Assert.StartsWith("line 2: a quoted field is not closed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_RecordLongerThanTheBuffer_Whole()
    {
        var big = new string('x', 200_000);

        var records = await ReadAll($"\"{big}\",y\nz\n");

        Assert.Equal(200_000, records[0][0].Length);
        Assert.Equal(["z"], records[1]);
    }
}
