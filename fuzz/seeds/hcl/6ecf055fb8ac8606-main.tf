terraform {
  required_version = ">= 1.5"
}

provider "aws" { region = var.region }

variable "region" { type = string }
variable "multi_az" {
  type    = bool
  default = false
}
variable "instance_count" {
  type    = number
  default = 1
}

resource "aws_db_instance" "main" {
  multi_az       = var.multi_az
  instance_class = var.instance_count > 1 ? "db.r5.large" : "db.t3.small"
}
