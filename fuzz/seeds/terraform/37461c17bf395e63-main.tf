provider "aws" {
  region = "ap-northeast-1"
}

variable "database_url" {
  type      = string
  sensitive = true
}

resource "aws_secretsmanager_secret_version" "database_url" {
  secret_id     = "prod/database-url"
  secret_string = jsonencode({ url = var.database_url })
}
