package main

import rego.v1

test_untagged_bucket_is_denied if {
	results := deny_untagged with input as parse_config_file("fixtures/main.tf")
	{r.msg | some r in results} == {"aws_s3_bucket.logs has no cost-center, owner tag(s)"}
}

test_tags_written_inline if {
	tf := `resource "aws_sqs_queue" "q" {
  tags = { environment = "prod", owner = "payments", cost-center = "42" }
}`
	count(deny_untagged) == 0 with input as parse_config("hcl2", tf)
}

test_tags_from_an_expression_are_not_judged if {
	tf := `resource "aws_sqs_queue" "q" {
  tags = local.tags
}`
	count(deny_untagged) == 0 with input as parse_config("hcl2", tf)
}

test_resources_without_tags_are_not_judged if {
	tf := `resource "aws_route" "r" {
  route_table_id = "rtb-1"
}`
	count(deny_untagged) == 0 with input as parse_config("hcl2", tf)
}
