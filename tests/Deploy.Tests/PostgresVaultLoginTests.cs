using System.Text.RegularExpressions;
using Npgsql;
using TestKit;

namespace Deploy.Tests;

/// <summary>Vault's database login manages the service roles' passwords without holding their privileges. Run on a real
/// PostgreSQL with deploy/postgres/bootstrap.sql and Vault's login exactly as compose creates it.
///
/// The local server is PostgreSQL 15 (Debian 12); Aurora runs 16 and compose 16.10. What 15 can run is run: the
/// NOINHERIT login cannot even connect to the services' databases (so it neither reads, writes nor alters their
/// tables) and can rotate their passwords. What is 16-only
/// is compared as text and cited, not run: GRANT ... WITH ADMIN TRUE, INHERIT FALSE, SET FALSE does not parse on 15
/// (it has no per-grant INHERIT/SET options; https://www.postgresql.org/docs/16/sql-grant.html), and on 16 SET FALSE
/// refuses SET ROLE to the service roles while CREATEROLE alone no longer lets a role alter roles it has no ADMIN on
/// (https://www.postgresql.org/docs/16/release-16.html, "Restrict the privileges of CREATEROLE"). On 16 or later
/// the test runs the 16 statement itself and asserts both.</summary>
public sealed partial class PostgresVaultLoginTests
{
    private const string VaultPassword = "test-only-vault";

    [Fact]
    public async Task VaultsLoginRotatesTheServiceRolesPasswordsButCannotTouchTheirData()
    {
        await using var cluster = await PostgresCluster.StartAsync(new PostgresClusterOptions { WithStandby = false });
        var server = cluster.Primary;
        var version = await server.ScalarAsync<int>("SELECT current_setting('server_version_num')::int");
        await server.ExecuteAsync("SET ROLE catalog_migrator; CREATE TABLE catalog.products (id int PRIMARY KEY); INSERT INTO catalog.products VALUES (1);", "catalog");

        await server.ExecuteAsync(ComposeCreateVaultRole().Match(await ComposeInitAsync()).Value.Replace(":'vault_password'", $"'{VaultPassword}'", StringComparison.Ordinal));
        var grant = Grant16().Match(await File.ReadAllTextAsync(VaultLoginSql)).Value;
        if (version >= 160000)
        {
            await server.ExecuteAsync(grant);
        }
        else
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => server.ExecuteAsync(grant));
            Assert.Equal(PostgresErrorCodes.SyntaxError, refused.SqlState);
            await server.ExecuteAsync(grant.Replace("WITH ADMIN TRUE, INHERIT FALSE, SET FALSE", "WITH ADMIN OPTION", StringComparison.Ordinal));
        }

        // Without inheritance the login has not even the application role's CONNECT on the service's database. The
        // control: a login with the same grant that inherits reads the table.
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, (await Assert.ThrowsAsync<PostgresException>(() => ConnectAsync(server, "vault", VaultPassword, "catalog"))).SqlState);
        await server.ExecuteAsync($"CREATE ROLE inheriting LOGIN PASSWORD '{VaultPassword}'; GRANT catalog_app TO inheriting;");
        await using (var inheriting = await ConnectAsync(server, "inheriting", VaultPassword, "catalog"))
            Assert.Null(await SqlStateAsync(inheriting, "SELECT * FROM catalog.products"));

        await using var vault = await ConnectAsync(server, "vault", VaultPassword, "postgres");
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, await SqlStateAsync(vault, "ALTER ROLE postgres PASSWORD 'x'"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, await SqlStateAsync(vault, "CREATE DATABASE stolen"));

        // What Vault is there for: the static roles' rotation statement, then the service logs in with the new password.
        Assert.Null(await SqlStateAsync(vault, "ALTER ROLE \"catalog_app\" WITH PASSWORD 'rotated-by-vault'"));
        await using (var service = await ConnectAsync(server, "catalog_app", "rotated-by-vault", "catalog"))
            Assert.Equal(1, (int)(await new NpgsqlCommand("SELECT id FROM catalog.products", service).ExecuteScalarAsync())!);

        if (version >= 160000)
        {
            // SET FALSE: no SET ROLE into a service role; CREATEROLE without ADMIN: no other role's password.
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, await SqlStateAsync(vault, "SET ROLE catalog_app"));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, await SqlStateAsync(vault, "ALTER ROLE replicator PASSWORD 'x'"));
        }
    }

    /// <summary>The one statement compose and Terraform both apply on PostgreSQL 16, and the NOINHERIT login both create.</summary>
    [Fact]
    public async Task ComposeAndTerraformGiveVaultTheSameGrantAndANoInheritLogin()
    {
        var sql = await File.ReadAllTextAsync(VaultLoginSql);
        var tree = await TerraformTree.LoadRepositoryAsync();
        var vaultRoot = tree["vault"];
        var roles = Grant16().Match(sql).Groups["roles"].Value.Split(',', StringSplitOptions.TrimEntries);

        Assert.Equal(vaultRoot.Locals["static_roles"]!.AsObject().Select(r => r.Value!["username"]!.ToString()).Order(StringComparer.Ordinal), roles.Order(StringComparer.Ordinal));
        Assert.Single(Grant16().Matches(sql));

        // compose: the login NOINHERIT, then the file.
        var init = await ComposeInitAsync();
        Assert.Contains("NOINHERIT", ComposeCreateVaultRole().Match(init).Value, StringComparison.Ordinal);
        Assert.Contains("-f /compose/vault-login.sql", init, StringComparison.Ordinal);
        Assert.Contains("./deploy/postgres/vault-login.sql:/compose/vault-login.sql:ro", await File.ReadAllTextAsync(Repo.PathOf("docker-compose.yml")), StringComparison.Ordinal);
        Assert.DoesNotContain("GRANT", init, StringComparison.Ordinal);

        // Terraform: the login NOINHERIT with CREATEROLE, the provider's ADMIN grant, then the same file through psql.
        var login = Assert.Single(vaultRoot.Resources("postgresql_role"), r => r.Name == "vault");
        Assert.False(login.Flag("inherit"));
        Assert.True(login.Flag("create_role"));
        Assert.Null(login["superuser"]);
        var options = Assert.Single(vaultRoot.Resources("terraform_data"), r => r.Name == "vault_grant_options");
        var provisioner = options.Body["provisioner"]!["local-exec"]![0]!;
        Assert.Equal("psql -v ON_ERROR_STOP=1 -f ${path.module}/../../postgres/vault-login.sql", provisioner["command"]!.ToString());
        Assert.True(File.Exists(Path.GetFullPath(Path.Combine(TerraformTree.Root, "vault", "../../postgres/vault-login.sql"))));
        Assert.Equal("verify-full", provisioner["environment"]!["PGSSLMODE"]!.ToString());
        Assert.Contains("postgresql_grant_role.vault", options.Text("triggers_replace"), StringComparison.Ordinal);
        Assert.Contains("filesha256(", options.Text("triggers_replace"), StringComparison.Ordinal);
        Assert.True(Assert.Single(vaultRoot.Resources("postgresql_grant_role")).Flag("with_admin_option"));
    }

    /// <summary>terraform_data re-runs its provisioner when triggers_replace changes (Terraform's terraform_data docs):
    /// the expression, evaluated by terraform itself with the memberships' IDs given, changes when vault-login.sql
    /// changes and not otherwise, so an edit of the grant reaches Aurora on the next apply.</summary>
    [Fact]
    public async Task EditingTheGrantFileReplaysItOnTheNextApply()
    {
        var vaultRoot = (await TerraformTree.LoadRepositoryAsync())["vault"];
        var options = Assert.Single(vaultRoot.Resources("terraform_data"), r => r.Name == "vault_grant_options");
        var expression = TerraformConsole.Unwrap(options.Text("triggers_replace")!);
        var root = Directory.CreateTempSubdirectory("grant-trigger-");
        try
        {
            // The vault root's place relative to deploy/postgres, and the memberships as the provider would have them.
            var module = Directory.CreateDirectory(Path.Combine(root.FullName, "terraform", "vault")).FullName;
            var sql = Path.Combine(Directory.CreateDirectory(Path.Combine(root.FullName, "postgres")).FullName, "vault-login.sql");
            // The expression goes into a local: terraform console reads piped input as one line.
            await File.WriteAllTextAsync(Path.Combine(module, "main.tf"),
                "locals {\n  grants = { catalog_app = { id = \"vault|catalog_app\" }, assets_app = { id = \"vault|assets_app\" } }\n"
                + "  triggers = " + expression.Replace("postgresql_grant_role.vault", "local.grants", StringComparison.Ordinal) + "\n}\n");
            async Task<string> Triggers(string content)
            {
                await File.WriteAllTextAsync(sql, content);
                return (await TerraformConsole.EvaluateInAsync(module, "jsonencode(local.triggers)")).ToString();
            }

            var original = await Triggers(await File.ReadAllTextAsync(VaultLoginSql));
            var again = await Triggers(await File.ReadAllTextAsync(VaultLoginSql));
            var edited = await Triggers(await File.ReadAllTextAsync(VaultLoginSql) + "\n-- one more grant option\n");

            Assert.Equal(original, again);
            Assert.NotEqual(original, edited);
            Assert.Contains("vault|catalog_app", original, StringComparison.Ordinal);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private static string VaultLoginSql => Repo.PathOf("deploy", "postgres", "vault-login.sql");

    private static Task<string> ComposeInitAsync() => File.ReadAllTextAsync(Repo.PathOf("deploy", "compose", "postgres", "primary-init.sh"));

    private static async Task<NpgsqlConnection> ConnectAsync(PostgresServer server, string user, string password, string database)
    {
        var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={server.Port};Username={user};Password={password};Database={database};Pooling=false;Timeout=5");
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<string?> SqlStateAsync(NpgsqlConnection connection, string sql)
    {
        try
        {
            await new NpgsqlCommand(sql, connection).ExecuteNonQueryAsync();
            return null;
        }
        catch (PostgresException e)
        {
            return e.SqlState;
        }
    }

    [GeneratedRegex(@"CREATE ROLE vault [^;]*;")]
    private static partial Regex ComposeCreateVaultRole();

    [GeneratedRegex(@"(?m)^GRANT (?<roles>[a-z_, ]+) TO vault WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;")]
    private static partial Regex Grant16();
}
