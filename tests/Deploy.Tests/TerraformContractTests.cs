using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>Names Terraform shares with the services and their database bootstrap: the Vault roles and database
/// roles of bootstrap.sql, and the object keys the Assets service writes.</summary>
public sealed partial class TerraformContractTests
{
    [Fact]
    public async Task VaultRolesBindTheServiceAccountOfTheSameNameAndReadOneStaticRole()
    {
        var vault = await TerraformVaultRoles.LoadAsync();

        Assert.Equal(["assets", "assets-migrator", "catalog", "catalog-migrator"], vault.Roles.Keys.Order());
        Assert.All(vault.Roles, role =>
        {
            Assert.Equal("studio", role.Value.Namespace);
            Assert.Equal(role.Key, role.Value.ServiceAccount);
            Assert.Contains(role.Value.StaticRole, vault.StaticRoles.Keys);
        });
        Assert.Equal(["assets-app", "assets-migrator", "catalog-app", "catalog-migrator"], vault.Roles.Values.Select(r => r.StaticRole).Order());
    }

    [Fact]
    public async Task VaultManagesExactlyTheDatabaseRolesOfBootstrapSql()
    {
        var vault = await TerraformVaultRoles.LoadAsync();
        var sql = await File.ReadAllTextAsync(Repo.PathOf("deploy", "postgres", "bootstrap.sql"));

        var roles = CreateRole().Matches(sql).Select(m => m.Groups[1].Value).Order();
        var databases = CreateDatabase().Matches(sql).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var connects = GrantConnect().Matches(sql).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

        Assert.Equal(roles, vault.StaticRoles.Values.Select(r => r.Username).Order());
        Assert.Equal(databases.Keys.Order(), vault.Databases.Keys.Order());
        Assert.All(vault.Databases, database =>
        {
            Assert.Equal(databases[database.Key], database.Value.Owner);
            Assert.Equal(connects[database.Key], database.Value.App);
        });
        Assert.All(vault.StaticRoles.Values, role => Assert.Contains(role.Database, databases.Keys));
    }

    [Fact]
    public async Task TheAssetsRoleAndTheCdnCoverTheKeysTheServiceWrites()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var prefix = tree["modules/environment"].Variables["assets_object_prefix"]["default"]!.ToString();
        var rules = await File.ReadAllTextAsync(Repo.PathOf("src", "Assets.Api", "Assets", "AssetContracts.cs"));

        var key = ObjectKeyTemplate().Match(rules);

        Assert.True(key.Success, "AssetRules.ObjectKey no longer builds keys as $\"<prefix>{productId...}\"");
        Assert.Equal(prefix, key.Groups[1].Value);
    }

    [GeneratedRegex(@"CREATE ROLE (\w+) LOGIN")]
    private static partial Regex CreateRole();

    [GeneratedRegex(@"CREATE DATABASE (\w+) OWNER (\w+);")]
    private static partial Regex CreateDatabase();

    [GeneratedRegex(@"GRANT CONNECT ON DATABASE (\w+) TO (\w+);")]
    private static partial Regex GrantConnect();

    [GeneratedRegex(@"\$""([a-z0-9/-]+/)\{productId")]
    private static partial Regex ObjectKeyTemplate();
}

/// <summary>The Vault configuration's roles as deploy/terraform/vault declares them (its locals).</summary>
public sealed record TerraformVaultRoles(
    IReadOnlyDictionary<string, (string Namespace, string ServiceAccount, string StaticRole)> Roles,
    IReadOnlyDictionary<string, (string Username, string Database)> StaticRoles,
    IReadOnlyDictionary<string, (string Owner, string App)> Databases)
{
    public static async Task<TerraformVaultRoles> LoadAsync()
    {
        var vault = (await TerraformTree.LoadRepositoryAsync())["vault"];
        var locals = vault.Locals;
        var role = Assert.Single(vault.Resources("vault_kubernetes_auth_backend_role"), r => r.Name == "workload");
        var policy = Assert.Single(vault.Resources("vault_policy"), p => p.Name == "workload");

        // The resources iterate over local.workload_roles; these are the bindings they declare for each entry.
        Assert.Equal("${local.workload_roles}", role.Text("for_each"));
        Assert.Equal("${each.key}", role.Text("role_name"));
        Assert.Equal(["${each.key}"], role["bound_service_account_names"]!.AsArray().Select(n => n!.ToString()));
        Assert.Equal(["${local.namespace}"], role["bound_service_account_namespaces"]!.AsArray().Select(n => n!.ToString()));
        Assert.Equal("${local.workload_roles}", policy.Text("for_each"));
        Assert.Contains("path \"${vault_database_secrets_mount.this.path}/static-creds/${each.value}\"", policy.Text("policy"), StringComparison.Ordinal);
        Assert.Equal("database", Assert.Single(vault.Resources("vault_database_secrets_mount")).Text("path"));

        var ns = locals["namespace"]!.ToString();
        return new TerraformVaultRoles(
            locals["workload_roles"]!.AsObject().ToDictionary(r => r.Key, r => (ns, r.Key, r.Value!.ToString())),
            locals["static_roles"]!.AsObject().ToDictionary(r => r.Key, r => (r.Value!["username"]!.ToString(), r.Value["database"]!.ToString())),
            locals["databases"]!.AsObject().ToDictionary(d => d.Key, d => (d.Value!["owner"]!.ToString(), d.Value["app"]!.ToString())));
    }
}
