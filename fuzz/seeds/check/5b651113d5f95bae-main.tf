provider "aws" { region = "eu-west-1" }

variable "enabled" {
  type    = bool
  default = true
}

variable "buckets" {
  type = map(object({
    public     = optional(bool, false)
    versioning = optional(bool, true)
  }))
  default = {
    logs   = {}
    assets = { public = true }
  }
}

locals {
  ports = [22, 443]
}

resource "aws_instance" "web" {
  count         = 2
  ami           = "ami-123"
  instance_type = count.index == 0 ? "t3.large" : "t3.micro"
  tags          = { Name = "web-${count.index}" }
}

resource "aws_instance" "never" {
  count = 0
  ami   = "ami-000"
}

resource "aws_instance" "maybe" {
  count = var.enabled ? 1 : 0
  ami   = "ami-456"
}

resource "aws_instance" "unknown_count" {
  count = length(data.aws_subnets.all.ids)
  ami   = "ami-789"
  tags  = { Index = count.index }
}

resource "aws_s3_bucket" "b" {
  for_each = var.buckets
  bucket   = "acme-${each.key}"
  acl      = each.value.public ? "public-read" : "private"
}

resource "aws_iam_user" "u" {
  for_each = toset(["alice", "bob"])
  name     = each.value
}

resource "aws_security_group" "sg" {
  name = "sg"

  dynamic "ingress" {
    for_each = local.ports
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      cidr_blocks = ["0.0.0.0/0"]
    }
  }

  egress {
    from_port = 0
    to_port   = 0
  }
}

module "queue" {
  source   = "./modules/queue"
  for_each = { orders = 30, events = 60 }
  name     = each.key
  timeout  = each.value
}

output "queue_names" {
  value = [for k, q in module.queue : q.name]
}
