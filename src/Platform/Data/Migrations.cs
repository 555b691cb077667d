using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Platform.Data;

/// <summary>Applies a context's EF Core migrations on the writer. Run by the <c>migrate</c> command (a pre-upgrade
/// Job in the cluster, a one-shot service in compose) and at start-up only when Database:MigrateOnStartup is set.
/// Migrations must be expand/contract: during a blue-green rollout the previous release runs on the new schema.</summary>
public interface IDatabaseMigrator
{
    Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken);
}

internal sealed class DatabaseMigrator<TContext>(Database<TContext> database, ILogger<DatabaseMigrator<TContext>> logger)
    : IDatabaseMigrator where TContext : DbContext
{
    public Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken) =>
        database.OnWriterAsync<IReadOnlyList<string>>(async (db, ct) =>
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
            await db.Database.MigrateAsync(ct);
            logger.LogInformation("Applied {Count} migration(s) to {Context}: {Migrations}", pending.Count, typeof(TContext).Name, pending);
            return pending;
        }, cancellationToken);
}

internal static class DatabaseMigrator
{
    /// <summary>The <c>migrate</c> command: every registered context's migrations, then exit.</summary>
    public static async Task<int> RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(10));
        try
        {
            foreach (var migrator in services.GetServices<IDatabaseMigrator>())
            {
                var applied = await migrator.MigrateAsync(timeout.Token);
                Console.Out.WriteLine($"migrate: applied {applied.Count} migration(s){(applied.Count > 0 ? ": " + string.Join(", ", applied) : "")}");
            }
            return 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OptionsValidationException)
        {
            Console.Error.WriteLine($"migrate failed: {e.GetBaseException().Message}");
            return 1;
        }
    }
}

/// <summary>Lets <c>dotnet ef</c> build a service's model without starting the service (it never connects), with the
/// migrations history where <see cref="DatabaseExtensions.AddDatabase{TContext}"/> keeps it.</summary>
public abstract class DesignTimeFactory<TContext>(string schema) : IDesignTimeDbContextFactory<TContext> where TContext : DbContext
{
    public const string HistoryTable = "__ef_migrations_history";

    public TContext CreateDbContext(string[] args) =>
        (TContext)Activator.CreateInstance(typeof(TContext), new DbContextOptionsBuilder<TContext>()
            .UseNpgsql("Host=localhost", npgsql => npgsql.MigrationsHistoryTable(HistoryTable, schema))
            .Options)!;
}

/// <summary>The start-up gate: waits for the writer to answer once (and migrates first when configured), then
/// marks the process started. Runs in the background so the management port answers probes meanwhile.</summary>
internal sealed class DatabaseStartup(IServiceProvider services, PlatformState state, ILogger<DatabaseStartup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Resolved here, not in the constructor: hosted services are built before options are validated at start,
        // and a bad setting must be reported by that validation (all of them, on one line), not by a constructor.
        var dataSources = services.GetRequiredService<DataSources>();
        var migrators = services.GetServices<IDatabaseMigrator>();
        var options = services.GetRequiredService<IOptions<DatabaseOptions>>();
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using (var connection = await dataSources.Writer.OpenConnectionAsync(stoppingToken))
                await using (var command = connection.CreateCommand())
                {
                    command.CommandText = "SELECT 1";
                    await command.ExecuteScalarAsync(stoppingToken);
                }
                if (options.Value.MigrateOnStartup)
                    foreach (var migrator in migrators) await migrator.MigrateAsync(stoppingToken);
                state.MarkStarted();
                logger.LogInformation("Writer answered: started");
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Logged on the first failure and then every tenth, so a long outage stays visible but quiet.
                if (attempt++ % 10 == 0) logger.LogWarning("Waiting for the writer to answer: {Reason}", e.GetBaseException().Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }
}
