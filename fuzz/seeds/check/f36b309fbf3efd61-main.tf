
variable "input" { type = number }
variable "prefix" { type = string }

locals {
  doubled = var.input * 2
}

output "doubled" { value = local.doubled }
output "label" { value = "${var.prefix}:${local.doubled}" }
