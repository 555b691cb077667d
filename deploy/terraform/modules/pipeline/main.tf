data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_codecommit_repository" "this" {
  repository_name = var.repository_name
}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.region
  partition = data.aws_partition.current.partition

  artifact_bucket_arn = "arn:${local.partition}:s3:::${var.artifact_bucket}"
  # CodePipeline keys artifacts by the pipeline name cut to 20 characters; every pipeline name starts with var.name.
  pipeline_artifacts = "${local.artifact_bucket_arn}/${substr(var.name, 0, 20)}*"
  repository         = data.aws_codecommit_repository.this

  projects = {
    build        = "${var.name}-build"
    pull-request = "${var.name}-pull-request"
  }
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.projects

  name              = "/aws/codebuild/${each.value}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

data "aws_iam_policy_document" "codebuild_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["codebuild.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "codebuild" {
  for_each = local.projects

  name               = each.value
  assume_role_policy = data.aws_iam_policy_document.codebuild_assume.json

  tags = var.tags
}

# What both projects need: logs, the cache, test reports and a clone of the repository.
data "aws_iam_policy_document" "codebuild_common" {
  for_each = local.projects

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[each.key].arn}:*"]
  }

  statement {
    sid       = "Cache"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.artifact_bucket_arn}/cache/${each.value}/*"]
  }

  statement {
    sid       = "ArtifactKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.artifact_kms_key_arn]
  }

  statement {
    sid       = "Clone"
    actions   = ["codecommit:GitPull"]
    resources = [local.repository.arn]
  }

  statement {
    sid = "TestReports"
    actions = [
      "codebuild:CreateReportGroup",
      "codebuild:CreateReport",
      "codebuild:UpdateReport",
      "codebuild:BatchPutTestCases",
    ]
    resources = ["arn:${local.partition}:codebuild:${local.region}:${local.account}:report-group/${each.value}-*"]
  }
}

resource "aws_iam_role_policy" "codebuild_common" {
  for_each = local.projects

  name   = "build"
  role   = aws_iam_role.codebuild[each.key].id
  policy = data.aws_iam_policy_document.codebuild_common[each.key].json
}

# Only the branch pipelines' project may push; a pull request, whatever its code does, cannot publish an image.
data "aws_iam_policy_document" "push" {
  statement {
    sid       = "PipelineArtifacts"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    resources = [local.pipeline_artifacts]
  }

  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  # Push candidates, wait for their scans, then add the promotable tag (put-image) (buildspec.yml post_build). No
  # BatchDeleteImage: removing an image's last tag deletes the image, and these repositories hold what environments
  # run (prod-* tags Image Updater pinned, keep-* holds, pinned charts); a partial publish is finished by a re-run.
  statement {
    sid = "PushImagesAndChart"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImageScanFindings",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = var.ecr_repository_arns
  }

  dynamic "statement" {
    for_each = var.sonarqube == null ? [] : [var.sonarqube]

    content {
      sid       = "SonarQubeToken"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value.token_secret_arn]
    }
  }
}

resource "aws_iam_role_policy" "push" {
  name   = "push"
  role   = aws_iam_role.codebuild["build"].id
  policy = data.aws_iam_policy_document.push.json
}

locals {
  environment_variables = {
    ECR_REGISTRY = var.ecr_registry
    SOURCE_URL   = local.repository.clone_url_http
  }
  # SonarQube (optional): its URL, and its token read from Secrets Manager by CodeBuild itself.
  sonarqube_variables = var.sonarqube == null ? {} : {
    SONAR_HOST_URL = { type = "PLAINTEXT", value = var.sonarqube.host_url }
    SONAR_TOKEN    = { type = "SECRETS_MANAGER", value = var.sonarqube.token_secret_arn }
  }
}

resource "aws_codebuild_project" "build" {
  name          = local.projects["build"]
  description   = "Tests, builds and pushes the images and the chart of one branch (started by its CodePipeline)"
  service_role  = aws_iam_role.codebuild["build"].arn
  build_timeout = var.build_timeout_minutes

  source {
    type      = "CODEPIPELINE"
    buildspec = "buildspec.yml"
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  cache {
    type     = "S3"
    location = "${var.artifact_bucket}/cache/${local.projects["build"]}"
  }

  environment {
    type            = "LINUX_CONTAINER"
    image           = var.build_image
    compute_type    = var.build_compute_type
    privileged_mode = true

    dynamic "environment_variable" {
      for_each = merge(local.environment_variables, { PUSH = "true" })

      content {
        name  = environment_variable.key
        value = environment_variable.value
      }
    }

    dynamic "environment_variable" {
      for_each = local.sonarqube_variables

      content {
        name  = environment_variable.key
        type  = environment_variable.value.type
        value = environment_variable.value.value
      }
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.this["build"].name
    }
  }

  encryption_key = var.artifact_kms_key_arn

  tags = var.tags
}

resource "aws_codebuild_project" "pull_request" {
  name          = local.projects["pull-request"]
  description   = "Runs the tests and builds the images of a pull request's source commit, pushing nothing"
  service_role  = aws_iam_role.codebuild["pull-request"].arn
  build_timeout = var.build_timeout_minutes

  source {
    type            = "CODECOMMIT"
    location        = local.repository.clone_url_http
    git_clone_depth = 1
    buildspec       = "buildspec.yml"
  }

  artifacts {
    type = "NO_ARTIFACTS"
  }

  cache {
    type     = "S3"
    location = "${var.artifact_bucket}/cache/${local.projects["pull-request"]}"
  }

  environment {
    type            = "LINUX_CONTAINER"
    image           = var.build_image
    compute_type    = var.build_compute_type
    privileged_mode = true

    dynamic "environment_variable" {
      for_each = merge(local.environment_variables, { PUSH = "false" })

      content {
        name  = environment_variable.key
        value = environment_variable.value
      }
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.this["pull-request"].name
    }
  }

  encryption_key = var.artifact_kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "pipeline_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["codepipeline.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "pipeline" {
  name               = "${var.name}-pipeline"
  assume_role_policy = data.aws_iam_policy_document.pipeline_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "pipeline" {
  statement {
    sid = "ReadSource"
    actions = [
      "codecommit:GetBranch",
      "codecommit:GetCommit",
      "codecommit:GetRepository",
      "codecommit:UploadArchive",
      "codecommit:GetUploadArchiveStatus",
      "codecommit:CancelUploadArchive",
    ]
    resources = [local.repository.arn]
  }

  statement {
    sid       = "RunBuild"
    actions   = ["codebuild:StartBuild", "codebuild:BatchGetBuilds"]
    resources = [aws_codebuild_project.build.arn]
  }

  statement {
    sid       = "Artifacts"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    resources = [local.pipeline_artifacts]
  }

  statement {
    sid       = "ArtifactBucket"
    actions   = ["s3:GetBucketVersioning", "s3:GetBucketLocation"]
    resources = [local.artifact_bucket_arn]
  }

  statement {
    sid       = "ArtifactKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.artifact_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "pipeline" {
  name   = "pipeline"
  role   = aws_iam_role.pipeline.id
  policy = data.aws_iam_policy_document.pipeline.json
}

# One pipeline per branch: a merge to develop never waits behind a prod release, and each pipeline's history is
# one environment's history. The CodeBuild action gets the branch and commit explicitly, so the image tag
# (<branch>-<short sha>) does not depend on how CodePipeline checked the source out.
resource "aws_codepipeline" "this" {
  for_each = var.branches

  name          = "${var.name}-${each.key}"
  role_arn      = aws_iam_role.pipeline.arn
  pipeline_type = "V2"

  artifact_store {
    type     = "S3"
    location = var.artifact_bucket

    encryption_key {
      type = "KMS"
      id   = var.artifact_kms_key_arn
    }
  }

  stage {
    name = "Source"

    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeCommit"
      version          = "1"
      namespace        = "SourceVariables"
      output_artifacts = ["source"]

      # CODEBUILD_CLONE_REF hands CodeBuild a git clone (not a zip), so git metadata is available to the build.
      configuration = {
        RepositoryName       = local.repository.repository_name
        BranchName           = each.key
        PollForSourceChanges = "false"
        OutputArtifactFormat = "CODEBUILD_CLONE_REF"
      }
    }
  }

  stage {
    name = "TestBuildPush"

    action {
      name             = "TestBuildPush"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      input_artifacts  = ["source"]
      output_artifacts = ["images"]

      configuration = {
        ProjectName = aws_codebuild_project.build.name
        EnvironmentVariables = jsonencode([
          { name = "BRANCH", value = each.key, type = "PLAINTEXT" },
          { name = "COMMIT_ID", value = "#{SourceVariables.CommitId}", type = "PLAINTEXT" },
          { name = "TARGET_ENVIRONMENT", value = each.value, type = "PLAINTEXT" },
        ])
      }
    }
  }

  tags = merge(var.tags, { Environment = each.value })
}

data "aws_iam_policy_document" "events_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "events" {
  name               = "${var.name}-events"
  assume_role_policy = data.aws_iam_policy_document.events_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "events" {
  statement {
    sid       = "StartBranchPipelines"
    actions   = ["codepipeline:StartPipelineExecution"]
    resources = [for pipeline in aws_codepipeline.this : pipeline.arn]
  }

  statement {
    sid       = "StartPullRequestBuilds"
    actions   = ["codebuild:StartBuild"]
    resources = [aws_codebuild_project.pull_request.arn]
  }
}

resource "aws_iam_role_policy" "events" {
  name   = "start-builds"
  role   = aws_iam_role.events.id
  policy = data.aws_iam_policy_document.events.json
}

# A push to a pipeline branch of the application repository, and nothing else, starts that branch's pipeline.
resource "aws_cloudwatch_event_rule" "branch" {
  for_each = var.branches

  name        = "${var.name}-${each.key}-push"
  description = "Push to ${each.key} in ${local.repository.repository_name}"

  event_pattern = jsonencode({
    source      = ["aws.codecommit"]
    detail-type = ["CodeCommit Repository State Change"]
    resources   = [local.repository.arn]
    detail = {
      event         = ["referenceCreated", "referenceUpdated"]
      referenceType = ["branch"]
      referenceName = [each.key]
    }
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "branch" {
  for_each = var.branches

  rule     = aws_cloudwatch_event_rule.branch[each.key].name
  arn      = aws_codepipeline.this[each.key].arn
  role_arn = aws_iam_role.events.arn
}

resource "aws_cloudwatch_event_rule" "pull_request" {
  name        = "${var.name}-pull-request"
  description = "Pull request opened or updated in ${local.repository.repository_name}"

  event_pattern = jsonencode({
    source      = ["aws.codecommit"]
    detail-type = ["CodeCommit Pull Request State Change"]
    resources   = [local.repository.arn]
    detail = {
      event             = ["pullRequestCreated", "pullRequestSourceBranchUpdated"]
      pullRequestStatus = ["Open"]
    }
  })

  tags = var.tags
}

# The target input is a CodeBuild StartBuild request: build the PR's source commit, with PUSH=false so the
# buildspec stops after the tests and the image builds (the project's role could not push anyway).
resource "aws_cloudwatch_event_target" "pull_request" {
  rule     = aws_cloudwatch_event_rule.pull_request.name
  arn      = aws_codebuild_project.pull_request.arn
  role_arn = aws_iam_role.events.arn

  input_transformer {
    input_paths = {
      sourceCommit    = "$.detail.sourceCommit"
      sourceReference = "$.detail.sourceReference"
      pullRequestId   = "$.detail.pullRequestId"
    }

    input_template = <<-EOT
      {
        "sourceVersion": <sourceCommit>,
        "environmentVariablesOverride": [
          {"name": "PUSH", "value": "false", "type": "PLAINTEXT"},
          {"name": "BRANCH", "value": <sourceReference>, "type": "PLAINTEXT"},
          {"name": "COMMIT_ID", "value": <sourceCommit>, "type": "PLAINTEXT"},
          {"name": "PULL_REQUEST_ID", "value": <pullRequestId>, "type": "PLAINTEXT"}
        ]
      }
    EOT
  }
}

resource "aws_codestarnotifications_notification_rule" "pipeline" {
  for_each = { for branch, pipeline in aws_codepipeline.this : branch => pipeline if var.notification_topic_arn != null }

  name        = "${each.value.name}-failed"
  resource    = each.value.arn
  detail_type = "BASIC"
  event_type_ids = [
    "codepipeline-pipeline-pipeline-execution-failed",
  ]

  target {
    address = var.notification_topic_arn
  }

  tags = var.tags
}

resource "aws_codestarnotifications_notification_rule" "pull_request" {
  count = var.notification_topic_arn == null ? 0 : 1

  name        = "${aws_codebuild_project.pull_request.name}-failed"
  resource    = aws_codebuild_project.pull_request.arn
  detail_type = "BASIC"
  event_type_ids = [
    "codebuild-project-build-state-failed",
  ]

  target {
    address = var.notification_topic_arn
  }

  tags = var.tags
}
