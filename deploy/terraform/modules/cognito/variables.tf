variable "name" {
  description = "Name of the user pool, e.g. studio-prod."
  type        = string
}

variable "domain_prefix" {
  description = "Prefix of the Cognito hosted domain (https://<prefix>.auth.<region>.amazoncognito.com); machine clients get tokens from its /oauth2/token endpoint."
  type        = string
}

variable "resource_servers" {
  description = "Resource servers by identifier, each with its scopes. Tokens then carry <identifier>/<scope>: catalog/write is the services' Auth:WriteScope."
  type        = map(map(string))

  validation {
    condition     = alltrue([for scopes in values(var.resource_servers) : length(scopes) > 0])
    error_message = "Every resource server needs at least one scope."
  }
}

variable "machine_clients" {
  description = "App clients for machine callers (OAuth client credentials grant), keyed by name, with the scopes each may request (<resource server>/<scope>)."
  type = map(object({
    scopes                        = list(string)
    access_token_validity_minutes = optional(number, 60)
  }))
}

variable "deletion_protection" {
  description = "Refuse to delete the user pool while on."
  type        = bool
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
