namespace Deploy.Tests;

/// <summary>Blue and green share one database, so every migration expands; contracting needs an explicit marker.</summary>
public sealed class MigrationsTests
{
    private static readonly string[] s_ids = ["20260101000000_AddSkuV2", "20260201000000_BackfillSkuV2"];

    private const string Expand = """
        public partial class AddPrice : Migration
        {
            protected override void Up(MigrationBuilder migrationBuilder)
            {
                migrationBuilder.AddColumn<decimal>(name: "price", schema: "catalog", table: "products", type: "numeric(12,2)", nullable: true);
                migrationBuilder.CreateIndex(name: "ix_products_price", schema: "catalog", table: "products", column: "price");
            }

            protected override void Down(MigrationBuilder migrationBuilder)
            {
                migrationBuilder.DropIndex(name: "ix_products_price", schema: "catalog", table: "products");
                migrationBuilder.DropColumn(name: "price", schema: "catalog", table: "products");
            }
        }
        """;

    [Fact]
    public void EveryMigrationOfEveryServiceOnlyExpands()
    {
        var files = MigrationsLint.MigrationFiles().ToList();

        Assert.Contains(files, f => f.Contains("Catalog.Api", StringComparison.Ordinal));
        var violations = MigrationsLint.CheckAll();
        Assert.True(violations.Count == 0, string.Join('\n', violations.Select(v => $"{v.File}: {v.Operation} (see deploy/helm/service/README.md, Migrations)")));
    }

    [Fact]
    public void AddingColumnsAndIndexesPassesAndDownMayDropThem()
    {
        Assert.Empty(MigrationsLint.Check("20260301000000_AddPrice.cs", Expand, s_ids));
    }

    [Theory]
    [InlineData("""migrationBuilder.DropColumn(name: "sku", schema: "catalog", table: "products");""", "DropColumn")]
    [InlineData("""migrationBuilder.DropTable(name: "products", schema: "catalog");""", "DropTable")]
    [InlineData("""migrationBuilder.RenameColumn(name: "sku", schema: "catalog", table: "products", newName: "code");""", "RenameColumn")]
    [InlineData("""migrationBuilder.RenameTable(name: "products", schema: "catalog", newName: "items");""", "RenameTable")]
    [InlineData("""migrationBuilder.AlterColumn<string>(name: "brand", schema: "catalog", table: "products", type: "character varying(100)", nullable: false, oldClrType: typeof(string), oldType: "character varying(100)", oldNullable: true);""", "non-nullable")]
    [InlineData("""migrationBuilder.AlterColumn<string>(name: "sku", schema: "catalog", table: "products", type: "character varying(32)", nullable: false, oldClrType: typeof(string), oldType: "character varying(64)");""", "changing a type")]
    [InlineData("""migrationBuilder.Sql("ALTER TABLE catalog.products DROP COLUMN brand");""", "Sql")]
    public void ADestructiveOperationInUpFails(string operation, string reported)
    {
        var source = Expand.Replace("migrationBuilder.CreateIndex(", operation + "\n        migrationBuilder.CreateIndex(", StringComparison.Ordinal);

        var violations = MigrationsLint.Check("20260301000000_Break.cs", source, s_ids);

        Assert.Contains(violations, v => v.Operation.Contains(reported, StringComparison.Ordinal));
    }

    [Fact]
    public void TheContractStepOfAnEarlierExpandMayDrop()
    {
        var contract = Expand.Replace("public partial class", "// Contract step of 20260101000000_AddSkuV2: since 1.4 nothing reads sku.\npublic partial class", StringComparison.Ordinal)
            .Replace("migrationBuilder.CreateIndex(", "migrationBuilder.DropColumn(name: \"sku\", schema: \"catalog\", table: \"products\");\n        migrationBuilder.CreateIndex(", StringComparison.Ordinal);

        Assert.Empty(MigrationsLint.Check("20260301000000_DropSku.cs", contract, s_ids));
        Assert.Contains(MigrationsLint.Check("20251201000000_DropSku.cs", contract, s_ids), v => v.Operation.Contains("not an earlier migration", StringComparison.Ordinal));
        Assert.Contains(MigrationsLint.Check("20260301000000_DropSku.cs", contract.Replace("20260101000000_AddSkuV2", "20260101000000_Missing", StringComparison.Ordinal), s_ids),
            v => v.Operation.Contains("not an earlier migration", StringComparison.Ordinal));
    }
}
