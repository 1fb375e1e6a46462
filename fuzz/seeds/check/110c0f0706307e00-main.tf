resource "aws_db_instance" "legacy" {
  engine = "postgres"
  # guard:ignore[public-rds] migration to the private subnet until=2025-01-31
  publicly_accessible = true
}
