# terraform/secrets.tf
resource "aws_secretsmanager_secret" "database_url" {
  name = "${var.environment}/database-url"
  description = "Database connection string for ${var.environment}"

  tags = {
    Environment = var.environment
    Project     = "multi-env-demo"
  }
}

resource "aws_secretsmanager_secret_version" "database_url" {
  secret_id     = aws_secretsmanager_secret.database_url.id
  secret_string = jsonencode({
    url = var.database_url
  })
}
