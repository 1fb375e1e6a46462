provider "aws" {
  region     = "ap-northeast-1"
  access_key = "AKIAIOSFODNN7EXAMPLE"
}

variable "db_password" {
  type      = string
  sensitive = true
  default   = "hunter2"
}

variable "database_url" {
  type      = string
  sensitive = true
}

locals {
  slack_webhook_token = "xoxb-123456789012-abcdefghijklmnop"
}

resource "aws_secretsmanager_secret_version" "database_url" {
  secret_id     = "prod/database-url"
  secret_string = jsonencode({ url = var.database_url })
}
