using SpotDevBox.Backup.Storage;
using SpotDevBox.Core.Savings;
using SpotDevBox.Repositories;

namespace SpotDevBox.Controller;

/// <summary>The bytes a box's storage prefix holds (its repository, host keys and documents): one listing, summed.</summary>
internal sealed partial class RepositorySizes(RepositoryOpener opener, Microsoft.Extensions.Logging.ILogger<RepositorySizes> logger) : IRepositorySizes
{
    public async Task<long?> BytesAsync(string storage, CancellationToken cancellationToken)
    {
        var store = opener.CreateStore(new RepositoryAddress(storage));
        try
        {
            long total = 0;
            await foreach (var o in store.ListAsync("", cancellationToken))
            {
                total += o.Size;
            }

            return total;
        }
        catch (StorageException e)
        {
            LogUnlisted(logger, storage, e.Message);
            return null;
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 5202, Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "The size of {Storage} could not be listed; its S3 cost is recorded as unknown: {Reason}")]
    private static partial void LogUnlisted(Microsoft.Extensions.Logging.ILogger logger, string storage, string reason);
}
