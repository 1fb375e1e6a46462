resource "aws_organizations_policy" "prod_guardrails" {
  name = "prod-guardrails"
  content = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Deny"
      Action   = "s3:DeleteBucket"
      Resource = "*"
    }]
  })
}
