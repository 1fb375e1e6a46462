terraform {
  backend "s3" {
    bucket = "acme-tfstate"
    key    = "dev/terraform.tfstate"
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
  name                = "app-dev"
  publicly_accessible = var.db_public
  tags                = { Environment = "dev" }
}

output "db_public" {
  value = module.db.public
}
