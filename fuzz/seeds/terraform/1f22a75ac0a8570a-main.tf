variable "name" { type = string }
variable "timeout" { type = number }

resource "aws_sqs_queue" "q" {
  name                       = var.name
  visibility_timeout_seconds = var.timeout
}

output "name" { value = aws_sqs_queue.q.name == "" ? "" : var.name }
