output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "CIDR of the VPC (the chart's NetworkPolicy admits ALB health checks from it)."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnet IDs by availability zone (ALB, NAT gateways)."
  value       = { for az, subnet in aws_subnet.public : az => subnet.id }
}

output "private_subnet_ids" {
  description = "Private subnet IDs by availability zone (nodes, pods, interface endpoints, bastion)."
  value       = { for az, subnet in aws_subnet.private : az => subnet.id }
}

output "database_subnet_ids" {
  description = "Database subnet IDs by availability zone (no route out of the VPC)."
  value       = { for az, subnet in aws_subnet.database : az => subnet.id }
}

output "nat_public_ips" {
  description = "Public egress addresses, one per AZ (for allow-lists of third parties)."
  value       = { for az, eip in aws_eip.nat : az => eip.public_ip }
}
