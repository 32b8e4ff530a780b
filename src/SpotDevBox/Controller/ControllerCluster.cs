using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Controller;

namespace SpotDevBox.Controller;

/// <summary>This <c>controller run</c> process: its id in the cluster (Quartz's instance id) and in <c>controller status</c>.</summary>
internal sealed record ControllerIdentity(string MemberId)
{
    /// <summary>The host name and a random part: a restarted controller is a new member, and two on one host differ.</summary>
    public static ControllerIdentity New()
    {
        var host = Environment.MachineName;
        if (string.IsNullOrWhiteSpace(host))
        {
            host = "controller";
        }

        return new($"{host.ToLowerInvariant()}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}");
    }
}

/// <summary>
/// Records this controller in the store (<see cref="IControllerStore.RecordMemberAsync"/>) at start, at every cluster
/// check-in interval, and after each pass, for <c>controller status</c>. It starts before Quartz: the store's
/// migrations (Quartz's own tables among them, on PostgreSQL) must have run before Quartz's job store checks them.
/// </summary>
internal sealed partial class ControllerMembership(
    IControllerStore store,
    ControllerIdentity identity,
    IOptions<ControllerOptions> options,
    TimeProvider time,
    ILogger<ControllerMembership> logger) : BackgroundService
{
    private ControllerMember? _member;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        var now = time.GetUtcNow();
        _member = new ControllerMember(
            identity.MemberId,
            Environment.MachineName,
            Environment.ProcessId,
            typeof(ControllerMembership).Assembly.GetName().Version?.ToString(3) ?? "unknown",
            now,
            now);
        await store.RecordMemberAsync(_member, cancellationToken);
        LogMember(logger, identity.MemberId, store is ControllerStore { Database: ControllerDatabase.Postgres } ? "clustered through the PostgreSQL database" : "alone (SQLite: one controller per database)");
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Cluster.CheckinInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await SeenAsync(null, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>After a pass over every box: when it ended, how long it took, how many boxes.</summary>
    public Task PassedAsync(TimeSpan took, int boxes, CancellationToken cancellationToken) =>
        SeenAsync((time.GetUtcNow(), took, boxes), cancellationToken);

    private async Task SeenAsync((DateTimeOffset At, TimeSpan Took, int Boxes)? pass, CancellationToken cancellationToken)
    {
        if (_member is null)
        {
            return;
        }

        var now = time.GetUtcNow();
        var member = _member with
        {
            LastSeen = now,
            LastPassAt = pass?.At,
            LastPassSeconds = pass is { } p ? Math.Round(p.Took.TotalSeconds, 3) : null,
            LastPassBoxes = pass?.Boxes,
        };
        try
        {
            await store.RecordMemberAsync(member, cancellationToken);
        }
        catch (Exception e) when (e is IOException or DbException or InvalidOperationException)
        {
            // Only status reads it; the pass and the triggers go on.
            LogNotRecorded(logger, identity.MemberId, e.Message);
        }
    }

    [LoggerMessage(EventId = 5140, Level = LogLevel.Information, Message = "Controller {Member} started, {How}")]
    private static partial void LogMember(ILogger logger, string member, string how);

    [LoggerMessage(EventId = 5141, Level = LogLevel.Warning, Message = "Controller {Member} could not record itself in the store (controller status shows it late): {Reason}")]
    private static partial void LogNotRecorded(ILogger logger, string member, string reason);
}

/// <summary>
/// A box's lock across the controllers of a cluster: a session-level PostgreSQL advisory lock on a connection of its
/// own, held while the box is reconciled and released at the end, or by the server when the process dies (its
/// connection closes). No transaction stays open across AWS calls. In front of it, this process's own lock.
/// </summary>
internal sealed class PostgresBoxLocks(ControllerStore store, TimeProvider time) : IBoxLocks, IDisposable
{
    /// <summary>The advisory locks' first key: "sdbx" in ASCII. The second is the box name's hash (a collision only makes two boxes wait for each other).</summary>
    internal const int Namespace = 0x73646278;

    /// <summary>How often a controller waiting for a box asks again.</summary>
    internal static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    private readonly InProcessBoxLocks _local = new();

    public async Task<BoxLock> AcquireAsync(string box, CancellationToken cancellationToken)
    {
        var local = await _local.AcquireAsync(box, cancellationToken);
        DbConnection? connection = null;
        try
        {
            connection = await store.OpenAsync(cancellationToken);
            var key = Key(box);
            var waited = local.Waited;
            while (!await TryLockAsync(connection, key, cancellationToken))
            {
                waited = true;
                await Task.Delay(Poll, time, cancellationToken);
            }

            var held = connection;
            return new BoxLock(waited, async () =>
            {
                try
                {
                    await RunAsync(held, "SELECT pg_advisory_unlock(@ns, @key);", key, CancellationToken.None);
                }
                catch (DbException)
                {
                    // A broken connection: the server ended its session, and with it the lock.
                }
                finally
                {
                    await held.DisposeAsync();
                    await local.DisposeAsync();
                }
            });
        }
        catch (Exception e) when (e is NpgsqlException or DbException)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            await local.DisposeAsync();
            throw new IOException($"box {box} could not be locked in {ControllerDatabase.Postgres.Description}: {e.Message}", e);
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            await local.DisposeAsync();
            throw;
        }
    }

    /// <summary>The box name's lock key: the first four bytes of its SHA-256.</summary>
    internal static int Key(string box) => BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(box)), 0);

    private static async Task<bool> TryLockAsync(DbConnection connection, int key, CancellationToken cancellationToken) =>
        await RunAsync(connection, "SELECT pg_try_advisory_lock(@ns, @key);", key, cancellationToken) is true;

    private static async Task<object?> RunAsync(DbConnection connection, string sql, int key, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var ns = command.CreateParameter();
        ns.ParameterName = "@ns";
        ns.DbType = System.Data.DbType.Int32;
        ns.Value = Namespace;
        command.Parameters.Add(ns);
        var k = command.CreateParameter();
        k.ParameterName = "@key";
        k.DbType = System.Data.DbType.Int32;
        k.Value = key;
        command.Parameters.Add(k);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    public void Dispose() => _local.Dispose();

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"advisory locks ({Namespace:x8}, hash) in {ControllerDatabase.Postgres.Description}");
}
