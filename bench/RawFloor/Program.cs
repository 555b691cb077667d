using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;

// The raw floor for bench/run.sh: Catalog's four hot queries and Assets' metadata read with plain Npgsql on the same writer and reader,
// and nothing else (no EF Core, no telemetry, no auth, no validation, no logging). What the service costs on top
// is the ratio of their throughputs. With --otlp-sink it is instead the trace collector the "telemetry on" run
// exports to, so exporting is measured without a collector's own cost.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, RawJson.Default));
var app = builder.Build();

if (args.Contains("--otlp-sink"))
{
    app.MapPost("/v1/traces", () => Results.Ok());
    app.Run();
    return;
}

var configuration = app.Configuration;
await using var writer = NpgsqlDataSource.Create(configuration["RAW_WRITER"] ?? throw new InvalidOperationException("RAW_WRITER is required"));
await using var reader = NpgsqlDataSource.Create(configuration["RAW_READER"] ?? throw new InvalidOperationException("RAW_READER is required"));
await using var assetsReader = NpgsqlDataSource.Create(configuration["RAW_ASSETS_READER"] ?? throw new InvalidOperationException("RAW_ASSETS_READER is required"));
var cdnBaseUrl = configuration["RAW_CDN_BASE_URL"] ?? "";
const string Columns = "id, sku, name, description, brand, category, attributes::text, status, created_at, updated_at, xmin::text::bigint";

app.MapGet("/health", () => Results.Ok());
// The runtime's JIT time so far, in the services' metric format: bench/run.sh warms a target until it stops growing.
app.MapGet("/metrics", () => $"system_runtime_dotnet_jit_compilation_time {System.Runtime.JitInfo.GetCompilationTime().TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n");

app.MapGet("/api/v1/products/{id:guid}", async (Guid id, HttpContext http) =>
{
    await using var command = reader.CreateCommand($"SELECT {Columns} FROM catalog.products WHERE id = $1");
    command.Parameters.AddWithValue(id);
    await using var row = await command.ExecuteReaderAsync();
    if (!await row.ReadAsync()) return Results.NotFound();
    var product = Read(row);
    http.Response.Headers.ETag = $"\"{row.GetInt64(10)}\"";
    return Results.Ok(product);
});

app.MapGet("/api/v1/products/by-sku/{sku}", async (string sku, HttpContext http) =>
{
    await using var command = reader.CreateCommand($"SELECT {Columns} FROM catalog.products WHERE sku = $1");
    command.Parameters.AddWithValue(sku);
    await using var row = await command.ExecuteReaderAsync();
    if (!await row.ReadAsync()) return Results.NotFound();
    var product = Read(row);
    http.Response.Headers.ETag = $"\"{row.GetInt64(10)}\"";
    return Results.Ok(product);
});

app.MapGet("/api/v1/products", async (int? limit) =>
{
    await using var command = reader.CreateCommand($"SELECT {Columns} FROM catalog.products ORDER BY id LIMIT $1");
    command.Parameters.AddWithValue(limit ?? 20);
    await using var row = await command.ExecuteReaderAsync();
    var items = new List<Product>();
    while (await row.ReadAsync()) items.Add(Read(row));
    return Results.Ok(new Page(items, null));
});

app.MapPost("/api/v1/products", async (ProductRequest request) =>
{
    var id = Guid.CreateVersion7();
    var now = DateTimeOffset.UtcNow;
    // The service's shape of a write: an explicit transaction (BEGIN goes with the INSERT), then COMMIT, so the create
    // ratio compares like with like.
    await using var connection = await writer.OpenConnectionAsync();
    await using var transaction = await connection.BeginTransactionAsync();
    await using var command = new NpgsqlCommand(
        "INSERT INTO catalog.products (id, sku, name, description, brand, category, attributes, status, created_at, updated_at) " +
        "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $9) RETURNING xmin::text::bigint", connection, transaction);
    command.Parameters.AddWithValue(id);
    command.Parameters.AddWithValue(request.Sku);
    command.Parameters.AddWithValue(request.Name);
    command.Parameters.AddWithValue((object?)request.Description ?? DBNull.Value);
    command.Parameters.AddWithValue((object?)request.Brand ?? DBNull.Value);
    command.Parameters.AddWithValue(request.Category);
    command.Parameters.AddWithValue(JsonSerializer.Serialize(request.Attributes ?? [], RawJson.Default.DictionaryStringString));
    command.Parameters.AddWithValue(request.Status ?? "draft");
    command.Parameters.AddWithValue(now);
    await command.ExecuteScalarAsync();
    await transaction.CommitAsync();
    var product = new Product(id, request.Sku, request.Name, request.Description, request.Brand, request.Category,
        request.Attributes ?? [], request.Status ?? "draft", now, now);
    return Results.Created($"/api/v1/products/{id}", product);
});

app.MapGet("/api/v1/assets/{id:guid}", async (Guid id) =>
{
    await using var command = assetsReader.CreateCommand(
        "SELECT id, product_id, object_key, file_name, content_type, size_bytes, sha256, status, created_at, updated_at FROM assets.assets WHERE id = $1");
    command.Parameters.AddWithValue(id);
    await using var row = await command.ExecuteReaderAsync();
    if (!await row.ReadAsync()) return Results.NotFound();
    var status = row.GetString(7);
    return Results.Ok(new AssetMetadata(row.GetGuid(0), row.GetGuid(1), row.GetString(3), row.GetString(4), row.GetInt64(5),
        row.IsDBNull(6) ? null : row.GetString(6), status, row.GetFieldValue<DateTimeOffset>(8), row.GetFieldValue<DateTimeOffset>(9),
        status == "available" ? $"{cdnBaseUrl}/{row.GetString(2)}" : null));
});

app.Run();

static Product Read(NpgsqlDataReader row) => new(
    row.GetGuid(0), row.GetString(1), row.GetString(2), row.IsDBNull(3) ? null : row.GetString(3), row.IsDBNull(4) ? null : row.GetString(4),
    row.GetString(5), JsonSerializer.Deserialize(row.GetString(6), RawJson.Default.DictionaryStringString) ?? [], row.GetString(7),
    row.GetFieldValue<DateTimeOffset>(8), row.GetFieldValue<DateTimeOffset>(9));

internal sealed record ProductRequest(string Sku, string Name, string? Description, string? Brand, string Category,
    Dictionary<string, string>? Attributes, string? Status);

internal sealed record Product(Guid Id, string Sku, string Name, string? Description, string? Brand, string Category,
    Dictionary<string, string> Attributes, string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

internal sealed record Page(List<Product> Items, string? NextCursor);

internal sealed record AssetMetadata(Guid Id, Guid ProductId, string FileName, string ContentType, long SizeBytes, string? Sha256,
    string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? DownloadUrl);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ProductRequest))]
[JsonSerializable(typeof(Product))]
[JsonSerializable(typeof(Page))]
[JsonSerializable(typeof(AssetMetadata))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class RawJson : JsonSerializerContext;
