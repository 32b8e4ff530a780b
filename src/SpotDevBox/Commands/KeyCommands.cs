using System.ComponentModel;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Serilog.Core;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Aws.Keys;
using SpotDevBox.Backup.Keys;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

/// <summary>How a key verb opens the master key: a passphrase (the usual sources) or, with --box, KMS.</summary>
internal class KeySettings : RepositorySettings
{
    public override ValidationResult Validate()
    {
        var result = base.Validate();
        if (!result.Successful)
        {
            return result;
        }

        return ValidationResult.Success();
    }
}

/// <summary>Where the new passphrase of <c>key add</c> and <c>key passwd</c> comes from: never the current one's source.</summary>
internal class NewKeySettings : KeySettings
{
    [CommandOption("--new-password-file <FILE>")]
    [Description("Read the new passphrase from the first line of FILE (mode 600).")]
    public string? NewPasswordFile { get; set; }

    [CommandOption("--new-password-command <COMMAND>")]
    [Description("Run COMMAND (no shell) and take the new passphrase from the first line it prints.")]
    public string? NewPasswordCommand { get; set; }

    [CommandOption("--label <TEXT>")]
    [Description("Who the new key is for, shown by 'key list'. Default: user@host.")]
    public string? Label { get; set; }

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        if (!result.Successful)
        {
            return result;
        }

        if (NewPasswordFile is not null && NewPasswordCommand is not null)
        {
            return ValidationResult.Error("give --new-password-file or --new-password-command, not both");
        }

        return Label is not null && !KeyAccess.IsLabel(Label)
            ? ValidationResult.Error("--label must be 1 to 200 printable characters")
            : ValidationResult.Success();
    }
}

internal sealed class KeyAddSettings : NewKeySettings
{
    [CommandOption("--to-kms-key <ARN>")]
    [Description("Add a copy wrapped by this AWS KMS key (ARN or alias) for the box given by --to-box, instead of a new passphrase.")]
    public string? ToKmsKey { get; set; }

    [CommandOption("--to-box <OWNER/BOX>")]
    [Description("The box whose encryption context the KMS copy is bound to: only it (and who may use the key with its context) can open it.")]
    public string? ToBox { get; set; }

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        if (!result.Successful)
        {
            return result;
        }

        if ((ToKmsKey is null) != (ToBox is null))
        {
            return ValidationResult.Error("--to-kms-key and --to-box go together: give both for a KMS copy, neither for a passphrase");
        }

        if (ToKmsKey is not null && (NewPasswordFile is not null || NewPasswordCommand is not null))
        {
            return ValidationResult.Error("give a new passphrase (--new-password-file, --new-password-command) or a KMS key (--to-kms-key), not both");
        }

        if (ToKmsKey is not null && string.IsNullOrWhiteSpace(ToKmsKey))
        {
            return ValidationResult.Error("--to-kms-key is empty: give the KMS key's ARN or alias");
        }

        return ToBox is not null && KeyAccess.SplitBox(ToBox) is null
            ? ValidationResult.Error("--to-box must be OWNER/BOX, e.g. alice/dev")
            : ValidationResult.Success();
    }
}

internal sealed class KeyRemoveSettings : KeySettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The key to remove: its id or a unique prefix of at least 8 digits, as 'key list' shows.")]
    public string Id { get; set; } = "";

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        if (!result.Successful)
        {
            return result;
        }

        return Id.Length < KeyAccess.ShortIdLength || !Id.All(char.IsAsciiHexDigitLower)
            ? ValidationResult.Error(string.Create(CultureInfo.InvariantCulture, $"the key id must be at least {KeyAccess.ShortIdLength} lowercase hex digits, as 'key list' shows"))
            : ValidationResult.Success();
    }
}

/// <summary>A key verb's refusal: one line and its exit code (2: nothing was changed, bad input; 1: at run time).</summary>
internal sealed class KeyVerbException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>A repository's key files as the key verbs see them: the store, the config's id (the KMS context) and the ring.</summary>
internal sealed class KeyRepository(IObjectStore store, string id, int version, KeyRing ring, KmsKeyService kms) : IDisposable
{
    public IObjectStore Store { get; } = store;
    public string Id { get; } = id;
    public int Version { get; } = version;
    public KeyRing Ring { get; } = ring;

    public void Dispose() => kms.Dispose();
}

/// <summary>Opens --repo's store (as the other repository verbs do), reads its config id, and opens its master key.</summary>
internal sealed class KeyAccess(RepositoryOpener opener, TimeProvider time)
{
    public const int ShortIdLength = 8;

    public static string ShortId(string id) => id.Length > ShortIdLength ? id[..ShortIdLength] : id;

    public static string DefaultLabel() => RepositoryOpener.DefaultKeyLabel();

    /// <summary>The label rule of <see cref="KeyRing"/>, checked before anything is opened.</summary>
    public static bool IsLabel(string label) => !string.IsNullOrWhiteSpace(label) && label.Length <= 200 && !label.Any(char.IsControl);

    public static (string Owner, string Box)? SplitBox(string value)
    {
        var parts = value.Split('/');
        return parts is [{ Length: > 0 } owner, { Length: > 0 } box] && !value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
            ? (owner, box)
            : null;
    }

    /// <summary>
    /// The store, its config (id and format version) and a key ring. A repository without key files is not encrypted
    /// (format version 1 or 2): refused with exit 2, naming <c>spotdevbox migrate</c>.
    /// </summary>
    public async Task<(KeyRepository Repository, IReadOnlyList<KeyEntry> Keys)> OpenAsync(RepositorySettings settings, CancellationToken cancellationToken)
    {
        var store = opener.CreateStore(settings);
        var (id, version) = await ReadConfigAsync(store, cancellationToken);
        var kms = new KmsKeyService();
        var repository = new KeyRepository(store, id, version, new KeyRing(store, time, kms), kms);
        try
        {
            var keys = await repository.Ring.ListAsync(cancellationToken);
            if (keys.Count == 0)
            {
                throw version < 3
                    ? new KeyVerbException(string.Create(CultureInfo.InvariantCulture,
                        $"the repository at {store.Location} is not encrypted (format version {version}): it has no keys; 'spotdevbox migrate' encrypts it"), ExitCodes.InvalidInput)
                    : new KeyVerbException($"the repository at {store.Location} is encrypted but has no key files: nobody can open it (restore the keys/ objects from the bucket's history)", ExitCodes.Failure);
            }

            return (repository, keys);
        }
        catch
        {
            repository.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads only what the key verbs need from config: its id (part of every KMS context) and version. The engine's
    /// own reader is not used, so that the key verbs do not depend on the format versions it accepts.
    /// </summary>
    private static async Task<(string Id, int Version)> ReadConfigAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await store.GetAsync(BackupRepository.ConfigKey, cancellationToken);
        }
        catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
        {
            throw new RepositoryException($"there is no repository at {store.Location} (create one with 'spotdevbox init')", RepositoryProblem.NotFound, e);
        }

        try
        {
            using var config = JsonDocument.Parse(bytes);
            var root = config.RootElement;
            var id = root.GetProperty("id").GetString();
            var version = root.TryGetProperty("version", out var v) ? v.GetInt32() : 1;
            if (string.IsNullOrWhiteSpace(id))
            {
                throw new JsonException();
            }

            return (id, version);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new RepositoryException($"the config of the repository at {store.Location} is not readable (no id): run 'spotdevbox check'", RepositoryProblem.RunTime, e);
        }
    }

    /// <summary>Opens the master key through KMS (--box) or with the current passphrase; the passphrase is returned to compare a new one with.</summary>
    public static async Task<(OpenedKey Key, string? Passphrase)> OpenMasterKeyAsync(KeySettings settings, KeyRepository repository, PasswordSource passwords, CancellationToken cancellationToken)
    {
        if (settings.Box is { } box && SplitBox(box) is var (owner, name))
        {
            return (await repository.Ring.OpenWithKmsAsync(KeyRing.BoxContext(repository.Id, owner, name), cancellationToken), null);
        }

        var passphrase = await passwords.ReadAsync(settings.PasswordFile, settings.PasswordCommand, cancellationToken);
        return (await repository.Ring.OpenWithPassphraseAsync(passphrase, cancellationToken), passphrase);
    }

    /// <summary>
    /// The new passphrase: --new-password-file, --new-password-command, or typed twice on a terminal. Never
    /// $SPOTDEVBOX_PASSWORD (that is the current one), and never the current passphrase again.
    /// </summary>
    public static async Task<string> ReadNewPassphraseAsync(NewKeySettings settings, IPasswordPrompt prompt, string? current, CancellationToken cancellationToken)
    {
        string passphrase;
        if (settings.NewPasswordFile is not null || settings.NewPasswordCommand is not null)
        {
            try
            {
                passphrase = await new PasswordSource(_ => null, prompt).ReadAsync(settings.NewPasswordFile, settings.NewPasswordCommand, cancellationToken);
            }
            catch (PasswordSourceException e)
            {
                // PasswordSource names the current passphrase's options; the person typed the new ones.
                throw new KeyVerbException(
                    e.Message.Replace("--password-command", "--new-password-command", StringComparison.Ordinal)
                        .Replace("the password file", "the new password file", StringComparison.Ordinal) + "; nothing was written",
                    e.ExitCode);
            }
        }
        else
        {
            passphrase = prompt.Read("new repository password: ");
            if (string.IsNullOrEmpty(passphrase))
            {
                throw new KeyVerbException("the new password is empty: type a new password", ExitCodes.InvalidInput);
            }

            if (!string.Equals(passphrase, prompt.Read("new repository password again: "), StringComparison.Ordinal))
            {
                throw new KeyVerbException("the two new passwords differ: nothing was changed; run it again", ExitCodes.InvalidInput);
            }
        }

        return string.Equals(passphrase, current, StringComparison.Ordinal)
            ? throw new KeyVerbException("the new password is the one the repository was opened with: give another (nothing was changed)", ExitCodes.InvalidInput)
            : passphrase;
    }

    /// <summary>Before anything is opened: without a new passphrase's source and without a terminal there is nothing to add.</summary>
    public static void RequireNewPassphraseSource(NewKeySettings settings, IPasswordPrompt prompt)
    {
        if (settings.NewPasswordFile is null && settings.NewPasswordCommand is null && !prompt.IsTerminal)
        {
            throw new KeyVerbException(
                $"no new password: give --new-password-file or --new-password-command ({PasswordSource.EnvironmentVariable} is the current one; stdin is not a terminal, so there is no prompt)",
                ExitCodes.InvalidInput);
        }
    }
}

/// <summary>The key verbs' plumbing: their refusals become one "spotdevbox: ..." line and the exit code.</summary>
internal abstract class KeyCommand<TSettings>(LoggingLevelSwitch consoleLevel) : RepositoryCommand<TSettings>(consoleLevel)
    where TSettings : KeySettings
{
    protected override async Task<int> RunAsync(TSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            return await RunKeyAsync(settings, cancellationToken);
        }
        catch (KeyVerbException e)
        {
            Console.Error.WriteLine("spotdevbox: " + e.Message);
            return e.ExitCode;
        }
        catch (PasswordSourceException e)
        {
            Console.Error.WriteLine("spotdevbox: " + e.Message);
            return e.ExitCode;
        }
        catch (KeyRingException e)
        {
            // A wrong passphrase, KMS's refusal, a damaged key file: nothing was written.
            Console.Error.WriteLine("spotdevbox: " + Terminal.Safe(e.Message) + (e.Message.Contains("nothing was written", StringComparison.Ordinal) ? "" : "; nothing was written"));
            return ExitCodes.Failure;
        }
    }

    protected abstract Task<int> RunKeyAsync(TSettings settings, CancellationToken cancellationToken);

    protected static void ShowProblems(OpenedKey opened)
    {
        foreach (var problem in opened.Problems)
        {
            Terminal.Warn(Terminal.Safe(problem));
        }
    }
}

[Description("List the repository's keys (the wrapped copies of its master key): id, kind, label, when added, and for KMS copies the key's ARN and encryption context; key files that cannot be used are listed with why. Needs no key; given a passphrase (or --box) it marks with * the key that opens.")]
internal sealed class KeyListCommand(KeyAccess access, LoggingLevelSwitch consoleLevel) : KeyCommand<KeySettings>(consoleLevel)
{
    protected override async Task<int> RunKeyAsync(KeySettings settings, CancellationToken cancellationToken)
    {
        var (repository, keys) = await access.OpenAsync(settings, cancellationToken);
        using var owned = repository;
        string? opened = null;
        if (settings.Box is not null || settings.PasswordFile is not null || settings.PasswordCommand is not null
            || Environment.GetEnvironmentVariable(PasswordSource.EnvironmentVariable) is { Length: > 0 })
        {
            try
            {
                var (key, _) = await KeyAccess.OpenMasterKeyAsync(settings, repository, PasswordSource.ForThisProcess(), cancellationToken);
                CryptographicOperations.ZeroMemory(key.MasterKey);
                opened = key.KeyId;
            }
            catch (KeyRingException e)
            {
                Terminal.Warn("no key marked as opening: " + Terminal.Safe(e.Message));
            }
        }

        if (settings.Json)
        {
            WriteJson(
                new KeyListOutput(
                    repository.Store.Location.ToString(),
                    opened,
                    [.. keys.Select(k => new KeyOutput(k.Id, KeyAccess.ShortId(k.Id), k.Kind, k.Label, k.Created, k.KeyArn, k.Context, k.Problem, k.Id == opened))]),
                CommandJson.Default.KeyListOutput);
            return ExitCodes.Ok;
        }

        // One line a key, not a table: a table wraps a long problem or ARN at 80 columns and splits what grep should find.
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $" {"ID",-8}  {"KIND",-10}  {"CREATED (UTC)",-19}  LABEL"));
        foreach (var k in keys)
        {
            var id = (k.Id == opened ? "*" : " ") + Terminal.Safe(KeyAccess.ShortId(k.Id)).PadRight(KeyAccess.ShortIdLength);
            if (k.Problem is not null)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{id}  {"unreadable",-10}  {Terminal.Safe(k.Problem)}"));
                continue;
            }

            var kms = k.KeyArn is null ? ""
                : "  " + Terminal.Safe(k.KeyArn) + " {" + string.Join(", ", (k.Context ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => Terminal.Safe(p.Key) + "=" + Terminal.Safe(p.Value))) + "}";
            var created = k.Created?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "";
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{id}  {k.Kind,-10}  {created,-19}  {Terminal.Safe(k.Label)}{kms}"));
        }

        var unreadable = keys.Count(k => k.Problem is not null);
        Console.Out.WriteLine(Terminal.Count(keys.Count, "key") + (unreadable > 0 ? string.Create(CultureInfo.InvariantCulture, $", {unreadable} unreadable") : "")
            + (opened is null ? "" : "; * opened the master key"));
        return ExitCodes.Ok;
    }
}

[Description("Add a key: open the master key (the current passphrase, or --box through KMS), then wrap it by a new passphrase (--new-password-file, --new-password-command, or typed twice on a terminal; never $SPOTDEVBOX_PASSWORD) or by a KMS key for one box (--to-kms-key with --to-box). Prints the new key's id. A new passphrase key costs Keys:Argon2id:MemoryKiB and Iterations (docs/security.md).")]
internal sealed class KeyAddCommand(KeyAccess access, IOptions<KeyOptions> options, LoggingLevelSwitch consoleLevel) : KeyCommand<KeyAddSettings>(consoleLevel)
{
    protected override async Task<int> RunKeyAsync(KeyAddSettings settings, CancellationToken cancellationToken)
    {
        var prompt = new ConsolePasswordPrompt();
        if (settings.ToKmsKey is null)
        {
            KeyAccess.RequireNewPassphraseSource(settings, prompt);
        }

        var (repository, _) = await access.OpenAsync(settings, cancellationToken);
        using var owned = repository;
        var (opened, current) = await KeyAccess.OpenMasterKeyAsync(settings, repository, PasswordSource.ForThisProcess(), cancellationToken);
        try
        {
            ShowProblems(opened);
            var label = settings.Label ?? KeyAccess.DefaultLabel();
            string id;
            string kind;
            if (settings.ToKmsKey is { } keyId && KeyAccess.SplitBox(settings.ToBox!) is var (owner, box))
            {
                id = await repository.Ring.AddKmsAsync(opened.MasterKey, keyId, KeyRing.BoxContext(repository.Id, owner, box), label, cancellationToken);
                kind = KeyFile.KmsKind;
            }
            else
            {
                var passphrase = await KeyAccess.ReadNewPassphraseAsync(settings, prompt, current, cancellationToken);
                id = await repository.Ring.AddPassphraseAsync(opened.MasterKey, passphrase, label, options.Value.Parameters, cancellationToken);
                kind = KeyFile.PassphraseKind;
            }

            if (settings.Json)
            {
                WriteJson(new KeyAddOutput(id, KeyAccess.ShortId(id), kind, label), CommandJson.Default.KeyAddOutput);
            }
            else
            {
                Console.Out.WriteLine($"added {kind} key {id}");
            }

            return ExitCodes.Ok;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(opened.MasterKey);
        }
    }
}

[Description("Remove a key file. Opens the master key first (proving you hold a working key), and refuses to remove the key you opened with (open with another one; to change a passphrase use 'key passwd') and the last usable key, so a working key always remains. Removing a key does NOT revoke the master key: whoever opened the repository with it may have kept the master key and can read everything written under it; revoking that needs a new master key and a rewrite of the repository.")]
internal sealed class KeyRemoveCommand(KeyAccess access, LoggingLevelSwitch consoleLevel) : KeyCommand<KeyRemoveSettings>(consoleLevel)
{
    internal const string NotRevoked =
        "removing a key does not revoke the master key: whoever opened the repository with it may have kept the master key and can still read everything written under it; revoking that needs a new master key and a rewrite of the repository";

    protected override async Task<int> RunKeyAsync(KeyRemoveSettings settings, CancellationToken cancellationToken)
    {
        var (repository, keys) = await access.OpenAsync(settings, cancellationToken);
        using var owned = repository;
        var matches = keys.Where(k => k.Id.StartsWith(settings.Id, StringComparison.Ordinal)).ToList();
        var target = matches switch
        {
            [] => throw new KeyVerbException($"there is no key {settings.Id} in the repository at {repository.Store.Location}: 'spotdevbox key list' shows the ids; nothing was changed", ExitCodes.InvalidInput),
            [var one] => one,
            _ => throw new KeyVerbException(string.Create(CultureInfo.InvariantCulture, $"{settings.Id} starts the ids of {matches.Count} keys: give more digits; nothing was changed"), ExitCodes.InvalidInput),
        };

        if (!keys.Any(k => k.Id != target.Id && k.Problem is null))
        {
            throw new KeyVerbException($"key {KeyAccess.ShortId(target.Id)} is the repository's last usable key: add another first ('spotdevbox key add'), or nobody could open the repository again; nothing was changed", ExitCodes.InvalidInput);
        }

        var (opened, _) = await KeyAccess.OpenMasterKeyAsync(settings, repository, PasswordSource.ForThisProcess(), cancellationToken);
        CryptographicOperations.ZeroMemory(opened.MasterKey);
        ShowProblems(opened);
        if (opened.KeyId == target.Id)
        {
            throw new KeyVerbException(
                $"key {KeyAccess.ShortId(target.Id)} is the one that opened the repository: open with another key to remove it (to change a passphrase: 'spotdevbox key passwd'); nothing was changed",
                ExitCodes.InvalidInput);
        }

        await repository.Ring.RemoveAsync(target.Id, cancellationToken);
        if (settings.Json)
        {
            WriteJson(new KeyRemoveOutput(target.Id, NotRevoked), CommandJson.Default.KeyRemoveOutput);
            return ExitCodes.Ok;
        }

        Console.Out.WriteLine($"removed key {target.Id}");
        Console.Out.WriteLine("note: " + NotRevoked + ".");
        return ExitCodes.Ok;
    }
}

[Description("Change a passphrase: open the master key with the current passphrase, add a key for the new one (as 'key add'), then remove the key that opened. The new key is written before the old is removed, so the repository never has no key; if the removal fails, both passphrases open it until you remove the old one.")]
internal sealed class KeyPasswdCommand(KeyAccess access, IOptions<KeyOptions> options, LoggingLevelSwitch consoleLevel) : KeyCommand<NewKeySettings>(consoleLevel)
{
    protected override async Task<int> RunKeyAsync(NewKeySettings settings, CancellationToken cancellationToken)
    {
        if (settings.Box is not null)
        {
            throw new KeyVerbException("key passwd changes a passphrase: open with the current passphrase, not --box (for KMS copies use 'key add --to-kms-key' and 'key remove')", ExitCodes.InvalidInput);
        }

        var prompt = new ConsolePasswordPrompt();
        KeyAccess.RequireNewPassphraseSource(settings, prompt);
        var (repository, keys) = await access.OpenAsync(settings, cancellationToken);
        using var owned = repository;
        var (opened, current) = await KeyAccess.OpenMasterKeyAsync(settings, repository, PasswordSource.ForThisProcess(), cancellationToken);
        string id;
        var label = settings.Label ?? keys.FirstOrDefault(k => k.Id == opened.KeyId)?.Label ?? KeyAccess.DefaultLabel();
        try
        {
            ShowProblems(opened);
            var passphrase = await KeyAccess.ReadNewPassphraseAsync(settings, prompt, current, cancellationToken);
            id = await repository.Ring.AddPassphraseAsync(opened.MasterKey, passphrase, label, options.Value.Parameters, cancellationToken);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(opened.MasterKey);
        }

        await repository.Ring.RemoveAsync(opened.KeyId, cancellationToken);
        if (settings.Json)
        {
            WriteJson(new KeyAddOutput(id, KeyAccess.ShortId(id), KeyFile.PassphraseKind, label), CommandJson.Default.KeyAddOutput);
        }
        else
        {
            Console.Out.WriteLine($"added passphrase key {id}");
            Console.Out.WriteLine($"removed key {opened.KeyId}");
            Console.Out.WriteLine("note: " + KeyRemoveCommand.NotRevoked + ".");
        }

        return ExitCodes.Ok;
    }
}
