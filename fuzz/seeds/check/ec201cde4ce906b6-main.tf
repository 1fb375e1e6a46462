terraform {}

locals {
  a    = "${local.b}-x"
  b    = upper(local.a)
  self = local.self
  ok   = "fine"
}

resource "aws_s3_bucket" "b" {
  bucket = local.a
  acl    = local.ok
}
