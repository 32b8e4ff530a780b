using SpotDevBox.Backup.Keys;
using SpotDevBox.Repositories;

namespace SpotDevBox.Tests;

/// <summary>
/// The passphrase the tests' encrypted repositories are made with, and the cheapest Argon2id the key files accept
/// (the floor, 19 MiB and 2 passes, 1 lane), so that each command's key derivation stays short.
/// </summary>
internal static class TestKeys
{
    public const string Passphrase = "spotdevbox test passphrase";

    public static Argon2idParameters Cheap { get; } = new(Argon2idParameters.MinMemoryKib, Argon2idParameters.MinIterations);

    public static KeyOptions Options => new()
    {
        Argon2id = new KeyArgon2idOptions { MemoryKiB = Cheap.MemoryKib, Iterations = Cheap.Iterations },
    };

    /// <summary>What every spotdevbox child process gets: the passphrase and the cheap derivation for new keys.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Environment =>
    [
        new(PasswordSource.EnvironmentVariable, Passphrase),
        new("SPOTDEVBOX_Keys__Argon2id__MemoryKiB", Cheap.MemoryKib.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("SPOTDEVBOX_Keys__Argon2id__Iterations", Cheap.Iterations.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];

    /// <summary>A key source with the tests' passphrase, for opening in the test process what a child process made.</summary>
    public static IRepositoryKeySource Source => new PassphraseKeySource(_ => Task.FromResult(Passphrase), TimeProvider.System, Cheap);

    /// <summary>Writes the passphrase to <paramref name="path"/> with mode 0600 (what --password-file and Agent:PasswordFile accept); returns the path.</summary>
    public static string WritePasswordFile(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, Passphrase + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return path;
    }
}
