variable "instance_type" {
  type = string
}

variable "vpc_id" {
  type = string
}
