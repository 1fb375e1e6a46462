provider "aws" {
  region = "ap-northeast-1"
}

resource "aws_ecs_task_definition" "app" {
  family                = "app"
  container_definitions = <<JSON
[
  {
    "name": "app",
    "image": "app:latest",
    "environment": []
  }
]
JSON
}
