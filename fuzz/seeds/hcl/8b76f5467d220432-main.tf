provider "aws" {
  region = "ap-northeast-1"
}

module "db" {
  source = "../../modules/db"
  name   = "app-dev"
}
