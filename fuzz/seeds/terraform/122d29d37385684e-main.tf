provider "aws" { region = "eu-west-1" }

data "aws_ssm_parameter" "public" {
  name = "/db/public"
}

resource "aws_db_instance" "from_data" {
  publicly_accessible = data.aws_ssm_parameter.public.value
  storage_encrypted   = aws_kms_key.k.enable_key_rotation
  identifier          = "db-${aws_kms_key.k.key_id}"
}

resource "aws_kms_key" "k" {}

module "remote" {
  source  = "terraform-aws-modules/rds/aws"
  version = "~> 6.0"
  publicly_accessible = true
}

resource "aws_db_instance" "from_remote" {
  publicly_accessible = module.remote.db_instance_publicly_accessible
  created             = timestamp()
  required            = var.required
}

variable "required" {
  type = bool
}
