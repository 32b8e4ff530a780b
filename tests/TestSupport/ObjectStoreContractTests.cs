using System.Security.Cryptography;
using SpotDevBox.Backup.Storage;
using Xunit;

// The facts follow the test naming convention Method_Scenario_Expected; this project is not a *.Tests
// project, so the build does not lift the underscore rule for it.
#pragma warning disable CA1707

namespace TestSupport;

/// <summary>
/// What every <see cref="IObjectStore"/> must do, whatever it stores into. A test class per store
/// inherits these facts and supplies <see cref="CreateStore"/>; xunit runs them for each.
/// </summary>
public abstract class ObjectStoreContractTests
{
    /// <summary>A new, empty store that no other test uses; the facts call InitializeAsync themselves.</summary>
    protected abstract IObjectStore CreateStore();

    protected async Task<IObjectStore> CreateInitializedStoreAsync()
    {
        var store = CreateStore();
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    /// <summary>Bytes 0, 1, ..., 255, 0, 1, ...: any slice's expected content can be written down by hand.</summary>
    protected static byte[] CountingBytes(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)i;
        }

        return bytes;
    }

    protected static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    protected static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task PutAsync_ThenGetAsync_ReturnsTheSameBytes()
    {
        var store = await CreateInitializedStoreAsync();
        var content = RandomBytes(100_000, seed: 1);

        await store.PutAsync("data/ab/ab01", content, CancellationToken.None);
        var read = await store.GetAsync("data/ab/ab01", CancellationToken.None);

        Assert.Equal(Sha256Hex(content), Sha256Hex(read));
    }

    [Fact]
    public async Task PutAsync_EmptyObject_GetReturnsNoBytes()
    {
        var store = await CreateInitializedStoreAsync();

        await store.PutAsync("empty", ReadOnlyMemory<byte>.Empty, CancellationToken.None);

        Assert.Empty(await store.GetAsync("empty", CancellationToken.None));
        Assert.Equal(0L, await store.GetSizeAsync("empty", CancellationToken.None));
    }

    [Fact]
    public async Task PutAsync_SliceOfLargerArray_StoresOnlyTheSlice()
    {
        var store = await CreateInitializedStoreAsync();
        var buffer = CountingBytes(10);

        await store.PutAsync("slice", buffer.AsMemory(2, 3), CancellationToken.None);

        Assert.Equal(new byte[] { 2, 3, 4 }, await store.GetAsync("slice", CancellationToken.None));
    }

    [Fact]
    public async Task GetRangeAsync_StartMiddleAndEnd_ReturnsExactlyThoseBytes()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("ranged", CountingBytes(256), CancellationToken.None);

        Assert.Equal(new byte[] { 0, 1, 2 }, await store.GetRangeAsync("ranged", 0, 3, CancellationToken.None));
        Assert.Equal(new byte[] { 100, 101, 102, 103 }, await store.GetRangeAsync("ranged", 100, 4, CancellationToken.None));
        Assert.Equal(new byte[] { 253, 254, 255 }, await store.GetRangeAsync("ranged", 253, 3, CancellationToken.None));
        Assert.Equal(new byte[] { 255 }, await store.GetRangeAsync("ranged", 255, 1, CancellationToken.None));
    }

    [Fact]
    public async Task ReadRangeAsync_IntoPartOfALargerBuffer_FillsExactlyThatPart()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("ranged", CountingBytes(256), CancellationToken.None);
        var buffer = Enumerable.Repeat((byte)0xEE, 10).ToArray();

        await store.ReadRangeAsync("ranged", 100, buffer.AsMemory(3, 4), CancellationToken.None);

        Assert.Equal(new byte[] { 0xEE, 0xEE, 0xEE, 100, 101, 102, 103, 0xEE, 0xEE, 0xEE }, buffer);
    }

    [Fact]
    public async Task ReadRangeAsync_LargeRange_ReadsEveryByte()
    {
        var store = await CreateInitializedStoreAsync();
        var content = RandomBytes(3_000_000, seed: 7);
        await store.PutAsync("large", content, CancellationToken.None);
        var buffer = new byte[2_000_001];

        await store.ReadRangeAsync("large", 999_999, buffer, CancellationToken.None);

        Assert.Equal(Sha256Hex(content.AsSpan(999_999, 2_000_001)), Sha256Hex(buffer));
    }

    [Fact]
    public async Task ReadRangeAsync_EndOfObject_ReadsTheLastBytes()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("ranged", CountingBytes(256), CancellationToken.None);
        var buffer = new byte[3];

        await store.ReadRangeAsync("ranged", 253, buffer, CancellationToken.None);

        Assert.Equal(new byte[] { 253, 254, 255 }, buffer);
    }

    [Fact]
    public async Task ReadRangeAsync_AbsentObject_ThrowsNotFound()
    {
        var store = await CreateInitializedStoreAsync();

        var e = await Assert.ThrowsAsync<StorageException>(() => store.ReadRangeAsync("absent", 0, new byte[10], CancellationToken.None));

        Assert.Equal(StorageFailure.NotFound, e.Failure);
    }

    [Fact]
    public async Task ReadRangeAsync_RangeRunsPastTheEnd_ThrowsRejected()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("ten", CountingBytes(10), CancellationToken.None);

        var partly = await Assert.ThrowsAsync<StorageException>(() => store.ReadRangeAsync("ten", 8, new byte[5], CancellationToken.None));
        var wholly = await Assert.ThrowsAsync<StorageException>(() => store.ReadRangeAsync("ten", 20, new byte[5], CancellationToken.None));

        Assert.Equal(StorageFailure.Rejected, partly.Failure);
        Assert.Equal(StorageFailure.Rejected, wholly.Failure);
    }

    [Fact]
    public async Task GetSizeAsync_PresentObject_ReturnsItsLength()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("sized", new byte[1234], CancellationToken.None);

        Assert.Equal(1234L, await store.GetSizeAsync("sized", CancellationToken.None));
    }

    [Fact]
    public async Task GetSizeAsync_AbsentObject_ReturnsNull()
    {
        var store = await CreateInitializedStoreAsync();

        Assert.Null(await store.GetSizeAsync("absent", CancellationToken.None));
    }

    [Fact]
    public async Task GetAsync_AbsentObject_ThrowsNotFound()
    {
        var store = await CreateInitializedStoreAsync();

        var e = await Assert.ThrowsAsync<StorageException>(() => store.GetAsync("absent", CancellationToken.None));

        Assert.Equal(StorageFailure.NotFound, e.Failure);
    }

    [Fact]
    public async Task GetRangeAsync_AbsentObject_ThrowsNotFound()
    {
        var store = await CreateInitializedStoreAsync();

        var e = await Assert.ThrowsAsync<StorageException>(() => store.GetRangeAsync("absent", 0, 10, CancellationToken.None));

        Assert.Equal(StorageFailure.NotFound, e.Failure);
    }

    [Fact]
    public async Task ListAsync_WithAndWithoutPrefix_ReturnsKeysRelativeToTheRepository()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("data/aa/aa01", new byte[3], CancellationToken.None);
        await store.PutAsync("data/ab/ab02", new byte[5], CancellationToken.None);
        await store.PutAsync("index/0001", new byte[7], CancellationToken.None);

        var all = await ListAsync(store, "");
        var data = await ListAsync(store, "data/");

        Assert.Equal(["data/aa/aa01", "data/ab/ab02", "index/0001"], all.Select(o => o.Key).Order(StringComparer.Ordinal));
        Assert.Equal([("data/aa/aa01", 3L), ("data/ab/ab02", 5L)], data.Select(o => (o.Key, o.Size)).OrderBy(o => o.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task ListAsync_EmptyStore_ReturnsNothing()
    {
        var store = await CreateInitializedStoreAsync();

        Assert.Empty(await ListAsync(store, ""));
    }

    [Fact]
    public async Task DeleteAsync_ExistingAndMissingKeys_RemovesExistingAndIgnoresMissing()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("keep", new byte[1], CancellationToken.None);
        await store.PutAsync("gone-1", new byte[1], CancellationToken.None);
        await store.PutAsync("gone-2", new byte[1], CancellationToken.None);

        await store.DeleteAsync(["gone-1", "never-existed", "gone-2"], CancellationToken.None);

        Assert.Equal(["keep"], (await ListAsync(store, "")).Select(o => o.Key));
        Assert.Null(await store.GetSizeAsync("gone-1", CancellationToken.None));
    }

    [Fact]
    public async Task DeleteAsync_NoKeys_DoesNothing()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("keep", new byte[1], CancellationToken.None);

        await store.DeleteAsync([], CancellationToken.None);

        Assert.Equal(1L, await store.GetSizeAsync("keep", CancellationToken.None));
    }

    [Fact]
    public async Task InitializeAsync_Twice_KeepsStoredObjects()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("kept", new byte[2], CancellationToken.None);

        await store.InitializeAsync(CancellationToken.None);

        Assert.Equal(2L, await store.GetSizeAsync("kept", CancellationToken.None));
    }

    protected static async Task<List<StoredObject>> ListAsync(IObjectStore store, string prefix)
    {
        ArgumentNullException.ThrowIfNull(store);
        var result = new List<StoredObject>();
        await foreach (var item in store.ListAsync(prefix, CancellationToken.None))
        {
            result.Add(item);
        }

        return result;
    }
}
