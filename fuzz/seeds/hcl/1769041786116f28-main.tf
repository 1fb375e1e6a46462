variable "name" { type = string }
variable "acl" {
  type    = string
  default = "private"
}
variable "versioning" {
  type    = bool
  default = true
}

resource "aws_s3_bucket" "this" {
  bucket = var.name
  acl    = var.acl

  versioning {
    enabled = var.versioning
  }
}

output "arn" { value = aws_s3_bucket.this.arn }
output "name" { value = var.name }
