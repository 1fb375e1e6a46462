terraform {
  required_version = ">= 1.5"
}

variable "db_password" {
  type      = string
  sensitive = true
}

variable "password_length" {
  type    = number
  default = 32
}
