package main

import rego.v1

# Organisation policy on Terraform, on the input Conftest's hcl2 parser
# gives (input.resource.<type>.<name> is a list of blocks).

mandatory_tags := {"environment", "owner", "cost-center"}

# Resources that take no tags.
untaggable := {"aws_iam_role_policy_attachment", "aws_route_table_association", "aws_security_group_rule"}

# METADATA
# title: AWS resources carry the mandatory tags
# description: |
#   Every taggable AWS resource carries `environment`, `owner` and
#   `cost-center` tags (directly; provider `default_tags` are not seen in a
#   single file). Untagged resources cannot be attributed in the bill or
#   found by the owner when they page.
# custom:
#   id: ORG003
#   severity: warning
deny_untagged contains {"msg": msg, "path": ["resource", type, name, i]} if {
	some type, name
	some i, block in input.resource[type][name]
	startswith(type, "aws_")
	not type in untaggable
	# `tags = local.tags` is the string "${local.tags}" here: not decidable from one file.
	not is_string(block.tags)
	tags := {k | some k, _ in object.get(block, "tags", {})}
	missing := mandatory_tags - tags
	count(missing) > 0
	msg := sprintf("%s.%s has no %s tag(s)", [type, name, concat(", ", sort(missing))])
}
