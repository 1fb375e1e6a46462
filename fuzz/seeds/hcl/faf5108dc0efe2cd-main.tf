terraform {
  backend "s3" {
    bucket = "acme-tfstate"
    key    = "prod/terraform.tfstate"
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type = string
}

variable "db_public" {
  type    = bool
  default = false
}

module "db" {
  source              = "../../modules/rds"
  name                = "app-prod"
  publicly_accessible = var.db_public
  tags                = { Environment = "prod" }
}

output "db_public" {
  value = module.db.public
}
