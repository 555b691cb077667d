namespace Deploy.Tests;

/// <summary>Each policy check, fed a deliberately wrong snippet, says what is wrong: proof the checks that pass on
/// deploy/terraform would fail if the code they guard broke.</summary>
public sealed class TerraformPolicyRejectsTests
{
    [Fact]
    public async Task ASingleNatGatewayForAllAzsIsRejected()
    {
        var config = await TerraformTree.ParseSnippetAsync("""
            resource "aws_nat_gateway" "this" {
              subnet_id = aws_subnet.public["eu-west-1a"].id
            }

            resource "aws_route" "private_nat" {
              for_each               = toset(var.azs)
              route_table_id         = aws_route_table.private[each.key].id
              destination_cidr_block = "0.0.0.0/0"
              nat_gateway_id         = aws_nat_gateway.this.id
            }
            """);

        var violations = TerraformPolicy.NatGatewayPerAz(config).ToList();

        Assert.Contains(violations, v => v.Contains("is not created once per AZ", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("public subnet of its own AZ", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("does not use its own AZ's NAT gateway", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADatabaseSubnetWithARouteOutIsRejected()
    {
        var config = await TerraformTree.ParseSnippetAsync("""
            resource "aws_subnet" "public" {
              for_each = toset(var.azs)
            }

            resource "aws_subnet" "private" {
              for_each                = toset(var.azs)
              map_public_ip_on_launch = true
            }

            resource "aws_route" "database_out" {
              route_table_id         = aws_route_table.database.id
              destination_cidr_block = "0.0.0.0/0"
              gateway_id             = aws_internet_gateway.this.id
            }
            """);

        var violations = TerraformPolicy.SubnetsPerAz(config).ToList();

        Assert.Contains(violations, v => v.Contains("no aws_subnet.database", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("aws_subnet.private gives instances public addresses", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("route out of the VPC", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APublicEksEndpointIsRejected()
    {
        var config = await TerraformTree.ParseSnippetAsync("""
            resource "aws_eks_cluster" "this" {
              name = "x"
              vpc_config {
                endpoint_private_access = true
                endpoint_public_access  = true
              }
            }
            """);

        var violation = Assert.Single(TerraformPolicy.EksEndpointPrivate(config));
        Assert.EndsWith("aws_eks_cluster.this must set endpoint_public_access = false", violation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnencryptedPublicAuroraWithoutForcedTlsIsRejected()
    {
        var config = await TerraformTree.ParseSnippetAsync("""
            resource "aws_rds_cluster_parameter_group" "this" {
              parameter {
                name  = "rds.force_ssl"
                value = "0"
              }
            }

            resource "aws_rds_cluster" "this" {
              storage_encrypted               = false
              deletion_protection             = false
              backup_retention_period         = 1
              db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.this.name
            }

            resource "aws_rds_cluster_instance" "writer" {
              publicly_accessible = true
            }
            """);

        var violations = TerraformPolicy.AuroraHardening(config).ToList();

        foreach (var expected in new[] { "storage_encrypted = true", "customer-managed key", "manage the master password", "deletion_protection from var.deletion_protection",
                     "backup_retention_period from the validated variable", "rds.force_ssl = 1", "publicly_accessible = false", "Performance Insights",
                     "Enhanced Monitoring", "alarm on AuroraReplicaLag" })
        {
            Assert.Contains(violations, v => v.Contains(expected, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task ABucketWithoutPublicAccessBlockVersioningOrKmsIsRejected()
    {
        var config = await TerraformTree.ParseSnippetAsync("""
            resource "aws_s3_bucket" "this" {
              bucket = "x"
            }

            resource "aws_s3_bucket_public_access_block" "this" {
              bucket                  = aws_s3_bucket.this.id
              block_public_acls       = true
              block_public_policy     = false
              ignore_public_acls      = true
              restrict_public_buckets = true
            }

            resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
              bucket = aws_s3_bucket.this.id
              rule {
                apply_server_side_encryption_by_default {
                  sse_algorithm = "AES256"
                }
              }
            }
            """);

        var violations = TerraformPolicy.BucketHardening(config).ToList();

        Assert.Contains(violations, v => v.Contains("public access block", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("versioning Enabled", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("SSE-KMS", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("lifecycle rules", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AMutableUnscannedRepositoryWithoutLifecycleIsRejected()
    {
        var config = await TerraformTree.ParseSnippetAsync("""
            resource "aws_ecr_repository" "this" {
              name                 = "catalog"
              image_tag_mutability = "MUTABLE"
            }
            """);

        var violations = TerraformPolicy.EcrHardening(config).ToList();

        Assert.Equal(3, violations.Count);
        Assert.Contains(violations, v => v.Contains("IMMUTABLE", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("scan on push", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("no lifecycle policy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AWildcardOrUncheckableServiceAccountTrustIsRejected()
    {
        var config = await TerraformTree.ParseSnippetAsync("""
            data "aws_iam_policy_document" "assume" {
              statement {
                actions = ["sts:AssumeRoleWithWebIdentity"]
                condition {
                  test     = "StringLike"
                  variable = "${var.oidc_issuer}:sub"
                  values   = ["system:serviceaccount:studio:*"]
                }
              }
            }

            module "role" {
              source          = "../../modules/irsa-role"
              namespace       = "studio"
              service_account = var.service_account
            }
            """);

        Assert.Contains(TerraformPolicy.IrsaTrustPolicyIsExact(config), v => v.Contains("sub condition must be StringEquals", StringComparison.Ordinal));
        Assert.Contains(TerraformPolicy.WebIdentityTrustOnlyInIrsaModule(config), v => v.Contains("outside modules/irsa-role", StringComparison.Ordinal));
        Assert.Contains(TerraformPolicy.IrsaBindings(config).Violations, v => v.Contains("cannot be resolved statically", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUndocumentedVariableAndAnUnlockedBackendAreRejected()
    {
        var config = await TerraformTree.ParseSnippetAsync("""
            terraform {
              required_providers {
                aws = {
                  source  = "hashicorp/aws"
                  version = ">= 6.0"
                }
              }

              backend "s3" {
                key     = "x"
                encrypt = true
              }
            }

            variable "size" {
              default = 1
            }

            output "size" {
              value = var.size
            }

            resource "aws_sns_topic" "this" {
              tags = { Name = "x" }
            }
            """);

        var documented = TerraformPolicy.Documented(config).ToList();
        Assert.Contains(documented, v => v.Contains("variable size has no type", StringComparison.Ordinal));
        Assert.Contains(documented, v => v.Contains("variable size has no description", StringComparison.Ordinal));
        Assert.Contains(documented, v => v.Contains("output size has no description", StringComparison.Ordinal));
        var root = TerraformPolicy.RootSettings(config).ToList();
        Assert.Contains(root, v => v.Contains("provider aws is not pinned", StringComparison.Ordinal));
        Assert.Contains(root, v => v.Contains("use_lockfile = true", StringComparison.Ordinal));
        var module = TerraformPolicy.ModuleSettings(config).ToList();
        Assert.Contains(module, v => v.Contains("no tags variable", StringComparison.Ordinal));
        Assert.Contains(module, v => v.Contains("aws_sns_topic.this does not apply var.tags", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALoosenedRetentionValidationIsCaught()
    {
        var dir = Directory.CreateTempSubdirectory("tf-loosened-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "variables.tf"), """
                variable "backup_retention_period" {
                  type        = number
                  description = "Days."
                  validation {
                    condition     = var.backup_retention_period >= 0 && var.backup_retention_period <= 35
                    error_message = "0-35"
                  }
                }
                """);

            var accepted = await TerraformValidation.AcceptsAsync(dir.FullName, [
                new Dictionary<string, string> { ["backup_retention_period"] = "0" },
                new Dictionary<string, string> { ["backup_retention_period"] = "36" },
            ]);

            Assert.Equal([true, false], accepted);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task UnformattedTerraformFailsTheFmtCheck()
    {
        var dir = Directory.CreateTempSubdirectory("tf-fmt-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "main.tf"), "variable \"x\" {\ntype=string\n}\n");

            var (exitCode, output) = await TerraformPolicyTests.TerraformFmtCheckAsync(dir.FullName);

            Assert.NotEqual(0, exitCode);
            Assert.Contains("main.tf", output, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
