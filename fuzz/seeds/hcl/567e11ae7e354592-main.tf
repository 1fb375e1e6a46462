provider "aws" {
  region = "us-west-2"
}

variable "vpc_cidr" {
  type = string
}

variable "instance_type" {
  type = string
}

# VPCモジュールを参照
module "my_vpc" {
  source     = "../../modules/vpc"
  cidr_block = var.vpc_cidr
}

# EC2モジュールを参照
module "web_server" {
  source        = "../../modules/ec2_instance"
  instance_type = var.instance_type
  vpc_id        = module.my_vpc.id
}
