output "user_pool_id" {
  description = "ID of the user pool."
  value       = aws_cognito_user_pool.this.id
}

output "issuer" {
  description = "Token issuer: the services' Auth:Authority."
  value       = "https://${aws_cognito_user_pool.this.endpoint}"
}

output "token_endpoint" {
  description = "OAuth token endpoint for the client credentials grant."
  value       = "https://${aws_cognito_user_pool_domain.this.domain}.auth.${data.aws_region.current.region}.amazoncognito.com/oauth2/token"
}

output "machine_client_ids" {
  description = "Client ID per machine client: the services' Auth:ClientIds. Secrets stay in Cognito (aws cognito-idp describe-user-pool-client)."
  value       = { for name, client in aws_cognito_user_pool_client.machine : name => client.id }
}

output "scopes" {
  description = "Every scope the resource servers define, as tokens carry them (<resource server>/<scope>)."
  value       = flatten([for identifier, scopes in var.resource_servers : [for scope in keys(scopes) : "${identifier}/${scope}"]])
}
