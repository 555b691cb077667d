using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure;

namespace Platform.Data;

public static class DatabaseExtensions
{
    /// <summary>Registers <see cref="Database{TContext}"/> over a writer and a reader endpoint, their health checks,
    /// the <c>migrate</c> command and the start-up gate. One database per service.</summary>
    public static IHostApplicationBuilder AddDatabase<TContext>(this IHostApplicationBuilder builder,
        Action<NpgsqlDataSourceBuilder>? configureDataSource = null,
        Action<NpgsqlDbContextOptionsBuilder>? configureNpgsql = null)
        where TContext : DbContext
    {
        var services = builder.Services;
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DatabaseOptions>, ValidateDatabase>();
        services.AddHttpContextAccessor();
        services.AddSingleton(sp => new DataSources(
            sp.GetRequiredService<IOptionsMonitor<DatabaseOptions>>(), sp.GetRequiredService<ILogger<DataSources>>(),
            sp.GetRequiredService<ServiceIdentity>(), configureDataSource));
        services.AddSingleton<ReaderAvailability>();
        services.AddSingleton(sp =>
        {
            var dataSources = sp.GetRequiredService<DataSources>();
            var loggerFactory = sp.GetRequiredService<ILoggerFactory>();
            return new DbContextFactories<TContext>(
                Factory(dataSources.Writer, DbRole.Writer, QueryTrackingBehavior.TrackAll),
                Factory(dataSources.Reader, DbRole.Reader, QueryTrackingBehavior.NoTracking));

            PooledDbContextFactory<TContext> Factory(NpgsqlDataSource dataSource, string role, QueryTrackingBehavior tracking) =>
                new(new DbContextOptionsBuilder<TContext>()
                    .UseNpgsql(dataSource, npgsql => configureNpgsql?.Invoke(npgsql))
                    .UseQueryTrackingBehavior(tracking)
                    .UseLoggerFactory(loggerFactory)
                    .AddInterceptors(new CommandMetricsInterceptor(role))
                    .Options);
        });
        services.AddSingleton(sp => new Database<TContext>(
            sp.GetRequiredService<DbContextFactories<TContext>>(), sp.GetRequiredService<DataSources>(),
            sp.GetRequiredService<ReaderAvailability>(), sp.GetRequiredService<Microsoft.AspNetCore.Http.IHttpContextAccessor>(),
            sp.GetRequiredService<IOptionsMonitor<DatabaseOptions>>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<Database<TContext>>>()));
        services.AddSingleton<IDatabaseMigrator, DatabaseMigrator<TContext>>();
        services.AddHostedService<DatabaseStartup>();

        var dependencyTimeout = TimeSpan.FromSeconds(2);
        services.AddHealthChecks()
            .AddNpgSql(sp => sp.GetRequiredService<DataSources>().Writer, name: DbRole.Writer,
                failureStatus: HealthStatus.Degraded, tags: [HealthTags.Dependency], timeout: dependencyTimeout)
            .AddNpgSql(sp => sp.GetRequiredService<DataSources>().Reader, name: DbRole.Reader,
                failureStatus: HealthStatus.Degraded, tags: [HealthTags.Dependency], timeout: dependencyTimeout);
        return builder;
    }

    private sealed class ValidateDatabase : IValidateOptions<DatabaseOptions>
    {
        public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
        {
            var failures = options.Validate().ToList();
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
