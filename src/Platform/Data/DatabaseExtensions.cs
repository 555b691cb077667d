using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using HealthChecks.NpgSql;
using Npgsql;

namespace Platform.Data;

public static class DatabaseExtensions
{
    /// <summary>Registers <see cref="Database{TContext}"/> over a writer and a reader endpoint, their health checks,
    /// the <c>migrate</c> command and the start-up gate. One database per service; its tables and its migrations
    /// history live in <paramref name="schema"/>, the schema the migrator role owns.</summary>
    public static IHostApplicationBuilder AddDatabase<TContext>(this IHostApplicationBuilder builder, string schema,
        Action<NpgsqlDataSourceBuilder>? configureDataSource = null)
        where TContext : DbContext
    {
        var services = builder.Services;
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
        services.AddSingleton(sp => new DataSources(
            sp.GetRequiredService<IOptionsMonitor<DatabaseOptions>>(), sp.GetRequiredService<ILogger<DataSources>>(),
            sp.GetRequiredService<ServiceIdentity>(), configureDataSource));
        services.AddSingleton<ReaderAvailability>();
        services.AddSingleton<WriterRetry>();
        services.AddSingleton(sp =>
        {
            var dataSources = sp.GetRequiredService<DataSources>();
            var loggerFactory = sp.GetRequiredService<ILoggerFactory>();
            var metrics = sp.GetRequiredService<PlatformMetrics>();
            return new DbContextFactories<TContext>(
                Factory(dataSources.Writer, DbRole.Writer, QueryTrackingBehavior.TrackAll),
                Factory(dataSources.Reader, DbRole.Reader, QueryTrackingBehavior.NoTracking));

            PooledDbContextFactory<TContext> Factory(NpgsqlDataSource dataSource, string role, QueryTrackingBehavior tracking) =>
                new(new DbContextOptionsBuilder<TContext>()
                    .UseNpgsql(dataSource, npgsql => npgsql.MigrationsHistoryTable(DesignTimeFactory<TContext>.HistoryTable, schema))
                    .UseQueryTrackingBehavior(tracking)
                    .UseLoggerFactory(loggerFactory)
                    // EF Core logs every failed connection, command, transaction and save at Error. Database<T> handles
                    // each of them (a retry, a fallback, a 409) or lets it reach the exception handler, which logs what
                    // is left once: at Error, a retried failover would page anyone alerting on error logs.
                    .ConfigureWarnings(w => w.Log(
                        (RelationalEventId.ConnectionError, LogLevel.Debug),
                        (RelationalEventId.CommandError, LogLevel.Debug),
                        (RelationalEventId.TransactionError, LogLevel.Debug),
                        (CoreEventId.SaveChangesFailed, LogLevel.Debug),
                        (CoreEventId.QueryIterationFailed, LogLevel.Debug)))
                    .AddInterceptors(new CommandMetricsInterceptor(metrics.DbCommandDuration.WithLabels(role)))
                    .Options);
        });
        services.AddSingleton(sp => new Database<TContext>(
            sp.GetRequiredService<DbContextFactories<TContext>>(), sp.GetRequiredService<DataSources>(),
            sp.GetRequiredService<ReaderAvailability>(), sp.GetRequiredService<WriterRetry>(),
            sp.GetRequiredService<IOptionsMonitor<DatabaseOptions>>(), sp.GetRequiredService<PlatformMetrics>()));
        if (!services.Any(d => d.ServiceType == typeof(IDatabaseMigrator)))
            services.AddSingleton(new PlatformCommand("migrate", "Applies the EF Core migrations on the writer and exits (the pre-upgrade Job).", DatabaseMigrator.RunAsync));
        services.AddSingleton<IDatabaseMigrator, DatabaseMigrator<TContext>>();
        services.AddHostedService<DatabaseStartup>();

        // Health checks answer within their timeout even when a server stalls (see EndpointHealthCheck).
        services.AddHealthChecks()
            .Add(new HealthCheckRegistration(DbRole.Writer, sp => new EndpointHealthCheck(sp, DbRole.Writer),
                HealthStatus.Degraded, [HealthTags.Dependency], Timeout.InfiniteTimeSpan))
            .Add(new HealthCheckRegistration(DbRole.Reader, sp => new EndpointHealthCheck(sp, DbRole.Reader),
                HealthStatus.Degraded, [HealthTags.Dependency, HealthTags.LogsOwnTransitions], Timeout.InfiniteTimeSpan));
        return builder;
    }

    /// <summary>AspNetCore.HealthChecks.NpgSql's check, bounded without cancelling it: a cancelled command makes
    /// Npgsql send a cancel request synchronously, which blocks a thread-pool thread while a stalled server does not
    /// answer (every few seconds, per endpoint, that starved the pod). A check that does not finish in time is
    /// abandoned; a reader already marked down is reported without another check.</summary>
    private sealed class EndpointHealthCheck(IServiceProvider services, string role) : IHealthCheck
    {
        private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);
        private NpgSqlHealthCheck? _inner;

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
        {
            var dataSources = services.GetRequiredService<DataSources>();
            if (role == DbRole.Reader && dataSources.HasSeparateReader && !services.GetRequiredService<ReaderAvailability>().IsUp)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, "reader marked down: reads are served by the writer");
            }
            _inner ??= new NpgSqlHealthCheck(new NpgSqlHealthCheckOptions(dataSources.For(role)));
            var check = _inner.CheckHealthAsync(context, CancellationToken.None);
            try
            {
                return await check.WaitAsync(CheckTimeout, cancellationToken);
            }
            catch (TimeoutException e)
            {
                _ = check.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return new HealthCheckResult(context.Registration.FailureStatus, $"no answer within {CheckTimeout.TotalSeconds:0} s", e);
            }
        }
    }
}
