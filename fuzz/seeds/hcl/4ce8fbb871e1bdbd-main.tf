resource "aws_organizations_policy" "prod_guardrails" {
  name = "prod-guardrails"
  content = jsonencode({
    Statement = [{
      Effect   = "Deny"
      Action   = "s3:DeleteBucket"
      Resource = "*"
    }]
  })
}
