provider "aws" { region = "eu-west-1" }

module "uploads" {
  source = "../../modules/bucket"
  name   = "api-uploads"
}
