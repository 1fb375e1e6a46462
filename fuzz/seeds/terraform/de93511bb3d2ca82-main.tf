provider "aws" { region = "eu-west-1" }

module "assets" {
  source     = "../../modules/bucket"
  name       = "web-assets"
  acl        = "public-read"
  versioning = "false"
}

output "bucket" { value = module.assets.name }
