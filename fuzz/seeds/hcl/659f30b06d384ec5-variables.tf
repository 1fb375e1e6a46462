terraform {
  required_version = ">= 1.5"
}

variable "db_password" {
  type = string
}
