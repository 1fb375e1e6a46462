provider "aws" {
  region = "ap-northeast-1"
}

variable "db_public" {
  type    = bool
  default = false
}

module "db" {
  source  = "terraform-aws-modules/rds/aws"
  version = "6.10.0"

  identifier          = "app"
  publicly_accessible = var.db_public
}
