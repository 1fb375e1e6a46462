resource "aws_db_instance" "this" {
  identifier          = "${var.name}-db"
  engine              = "postgres"
  instance_class      = var.instance_class
  publicly_accessible = var.publicly_accessible
  storage_encrypted   = true
  tags                = local.tags
}

locals {
  tags = merge(var.tags, { Module = "rds" })
}
