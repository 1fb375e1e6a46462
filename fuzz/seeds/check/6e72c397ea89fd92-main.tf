provider "aws" { region = "us-east-1" }

variable "allowed_regions" {
  type    = list(string)
  default = ["eu-west-1", "eu-central-1"]
}

resource "aws_organizations_policy" "deny_regions" {
  name = "deny-regions"
  type = "SERVICE_CONTROL_POLICY"
  content = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "DenyOtherRegions"
        Effect   = "Deny"
        NotAction = ["iam:*", "organizations:*"]
        Resource = "*"
        Condition = {
          StringNotEquals = { "aws:RequestedRegion" = var.allowed_regions }
        }
      }
    ]
  })
}

data "aws_iam_policy_document" "deny_leave" {
  statement {
    effect    = "Deny"
    actions   = ["organizations:LeaveOrganization"]
    resources = ["*"]
  }
}

resource "aws_organizations_policy" "deny_leave" {
  name    = "deny-leave"
  content = data.aws_iam_policy_document.deny_leave.json
}
