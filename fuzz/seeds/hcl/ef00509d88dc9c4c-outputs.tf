output "endpoint" {
  value = aws_db_instance.this.endpoint
}

output "identifier" {
  value = aws_db_instance.this.identifier
}

output "public" {
  value = var.publicly_accessible
}
