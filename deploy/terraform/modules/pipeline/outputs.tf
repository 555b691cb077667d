output "pipeline_names" {
  description = "Pipeline name per branch."
  value       = { for branch, pipeline in aws_codepipeline.this : branch => pipeline.name }
}

output "build_project_name" {
  description = "CodeBuild project the pipelines run (tests, images, chart, push)."
  value       = aws_codebuild_project.build.name
}

output "pull_request_project_name" {
  description = "CodeBuild project pull requests run (tests and image builds, no push)."
  value       = aws_codebuild_project.pull_request.name
}
