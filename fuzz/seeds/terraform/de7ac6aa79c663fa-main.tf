provider "aws" { region = "eu-west-1" }

variable "env" {
  type    = string
  default = "prod"
}

locals {
  log_config = {
    logDriver = "awslogs"
    options   = { "awslogs-group" = "/ecs/app-${var.env}" }
  }
}

resource "aws_ecs_task_definition" "inline" {
  family = "app"
  container_definitions = jsonencode([
    {
      name             = "app"
      image            = "repo/app:${var.env}"
      essential        = true
      privileged       = false
      portMappings     = [{ containerPort = 8080, hostPort = 8080 }]
      environment      = [{ name = "ENV", value = var.env }]
      logConfiguration = local.log_config
    },
    {
      name       = "sidecar"
      image      = "repo/sidecar:1.0"
      privileged = true
    }
  ])
}

resource "aws_ecs_task_definition" "from_file" {
  family                = "worker"
  container_definitions = file("${path.module}/task.json")
}

resource "aws_ecs_task_definition" "decoded" {
  family                = "worker2"
  container_definitions = jsonencode(jsondecode(file("task.json")))
}

resource "aws_ecs_task_definition" "templated" {
  family = "worker3"
  container_definitions = templatefile("${path.module}/task.json.tpl", {
    image = "repo/worker:${var.env}"
    ports = [80, 443]
  })
}
