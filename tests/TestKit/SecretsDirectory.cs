using System.Text.Json;

namespace TestKit;

/// <summary>A temporary directory playing Vault Agent's /vault/secrets: the service reads database.json from it.</summary>
public sealed class SecretsDirectory : IDisposable
{
    public SecretsDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "secrets-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Writes database.json the way the chart's Vault template renders it, atomically (write then rename),
    /// as Vault Agent does.</summary>
    public void WriteDatabase(string username, string password) =>
        Write("database.json", JsonSerializer.Serialize(new { Database = new { Username = username, Password = password } }));

    public void Write(string fileName, string content)
    {
        var target = System.IO.Path.Combine(Path, fileName);
        var temporary = target + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, target, overwrite: true);
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
