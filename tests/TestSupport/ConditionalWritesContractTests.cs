using System.Text;
using SpotDevBox.Backup.Storage;
using Xunit;

#pragma warning disable CA1707

namespace TestSupport;

/// <summary>
/// What every <see cref="IObjectStore"/> must do for conditional writes (<see cref="IObjectStore.PutIfAsync"/>),
/// the launch claim's ground (docs/controller.md, "One instance per box"). Apart from
/// <see cref="ObjectStoreContractTests"/> on purpose: the S3 store's general contract runs against fauxqs, which
/// ignores If-Match and If-None-Match (it would store every write and prove nothing), so the S3 store runs these
/// against moto instead (S3ObjectStoreConditionalWritesTests); the local-directory store runs both.
/// </summary>
public abstract class ConditionalWritesContractTests
{
    /// <summary>A new, empty store that no other test uses, initialized.</summary>
    protected abstract Task<IObjectStore> CreateInitializedStoreAsync();

    private static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task GetVersionedAsync_AbsentObject_ReturnsNull()
    {
        var store = await CreateInitializedStoreAsync();

        Assert.Null(await store.GetVersionedAsync("launch.json", CancellationToken.None));
    }

    [Fact]
    public async Task PutIfAsync_AbsentExpectedAndAbsent_StoresAndReadsBackWithAnETag()
    {
        var store = await CreateInitializedStoreAsync();

        Assert.True(await store.PutIfAsync("launch.json", Text("first"), expectedETag: null, CancellationToken.None));

        var read = await store.GetVersionedAsync("launch.json", CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal("first", Encoding.UTF8.GetString(read.Content));
        Assert.False(string.IsNullOrEmpty(read.ETag));
    }

    [Fact]
    public async Task PutIfAsync_AbsentExpectedButPresent_ReturnsFalseAndKeepsTheObject()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("launch.json", Text("winner"), CancellationToken.None);

        Assert.False(await store.PutIfAsync("launch.json", Text("loser"), expectedETag: null, CancellationToken.None));

        Assert.Equal("winner", Encoding.UTF8.GetString(await store.GetAsync("launch.json", CancellationToken.None)));
    }

    [Fact]
    public async Task PutIfAsync_ETagOfTheVersionRead_Replaces()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("launch.json", Text("old"), CancellationToken.None);
        var read = (await store.GetVersionedAsync("launch.json", CancellationToken.None))!;

        Assert.True(await store.PutIfAsync("launch.json", Text("new"), read.ETag, CancellationToken.None));

        var after = (await store.GetVersionedAsync("launch.json", CancellationToken.None))!;
        Assert.Equal("new", Encoding.UTF8.GetString(after.Content));
        Assert.NotEqual(read.ETag, after.ETag);
    }

    [Fact]
    public async Task PutIfAsync_StaleETag_ReturnsFalseAndKeepsTheNewerObject()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("launch.json", Text("v1"), CancellationToken.None);
        var read = (await store.GetVersionedAsync("launch.json", CancellationToken.None))!;
        Assert.True(await store.PutIfAsync("launch.json", Text("v2 by another"), read.ETag, CancellationToken.None));

        Assert.False(await store.PutIfAsync("launch.json", Text("v2 by me"), read.ETag, CancellationToken.None));

        Assert.Equal("v2 by another", Encoding.UTF8.GetString(await store.GetAsync("launch.json", CancellationToken.None)));
    }

    [Fact]
    public async Task PutIfAsync_ETagButTheObjectWent_ReturnsFalse()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("launch.json", Text("v1"), CancellationToken.None);
        var read = (await store.GetVersionedAsync("launch.json", CancellationToken.None))!;
        await store.DeleteAsync(["launch.json"], CancellationToken.None);

        Assert.False(await store.PutIfAsync("launch.json", Text("v2"), read.ETag, CancellationToken.None));
        Assert.Null(await store.GetVersionedAsync("launch.json", CancellationToken.None));
    }

    [Fact]
    public async Task PutIfAsync_EightWritersOfTheSameVersionAtOnce_ExactlyOneWins()
    {
        var store = await CreateInitializedStoreAsync();
        await store.PutAsync("launch.json", Text("v0"), CancellationToken.None);
        var read = (await store.GetVersionedAsync("launch.json", CancellationToken.None))!;

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => store.PutIfAsync("launch.json", Text($"writer {i}"), read.ETag, CancellationToken.None))));

        var winner = Assert.Single(Enumerable.Range(0, 8), i => results[i]);
        Assert.Equal($"writer {winner}", Encoding.UTF8.GetString(await store.GetAsync("launch.json", CancellationToken.None)));
    }

    [Fact]
    public async Task PutIfAsync_EightCreatorsAtOnce_ExactlyOneWins()
    {
        var store = await CreateInitializedStoreAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => store.PutIfAsync("boxes/a/launch.json", Text($"creator {i}"), null, CancellationToken.None))));

        var winner = Assert.Single(Enumerable.Range(0, 8), i => results[i]);
        Assert.Equal($"creator {winner}", Encoding.UTF8.GetString(await store.GetAsync("boxes/a/launch.json", CancellationToken.None)));
    }

    [Fact]
    public async Task ListAsync_AfterAConditionalWrite_ListsOnlyTheObject()
    {
        var store = await CreateInitializedStoreAsync();

        Assert.True(await store.PutIfAsync("boxes/a/launch.json", Text("x"), null, CancellationToken.None));

        var keys = new List<string>();
        await foreach (var o in store.ListAsync("", CancellationToken.None))
        {
            keys.Add(o.Key);
        }

        Assert.Equal(["boxes/a/launch.json"], keys);
    }
}
