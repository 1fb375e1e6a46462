package main

import rego.v1

# Organisation policy on Terraform, on the input Conftest's hcl2 parser
# gives (input.resource.<type>.<name> is a list of blocks).

mandatory_tags := {"environment", "owner", "cost-center"}

# Resources that take no tags.
untaggable := {
	"aws_appautoscaling_policy",
	"aws_appautoscaling_scheduled_action",
	"aws_cloudwatch_event_target",
	"aws_ec2_tag",
	"aws_ecs_cluster_capacity_providers",
	"aws_eks_access_policy_association",
	"aws_organizations_policy_attachment",
	"aws_secretsmanager_secret_rotation",
	"aws_vpn_gateway_route_propagation",
	"aws_autoscaling_attachment",
	"aws_cloudwatch_log_subscription_filter",
	"aws_ecr_lifecycle_policy",
	"aws_ecr_repository_policy",
	"aws_eip_association",
	"aws_iam_policy_attachment",
	"aws_iam_role_policy",
	"aws_iam_role_policy_attachment",
	"aws_iam_user_policy_attachment",
	"aws_kms_alias",
	"aws_lambda_permission",
	"aws_lb_target_group_attachment",
	"aws_main_route_table_association",
	"aws_network_acl_rule",
	"aws_route",
	"aws_route53_record",
	"aws_route_table_association",
	"aws_s3_bucket_policy",
	"aws_s3_bucket_public_access_block",
	"aws_s3_bucket_server_side_encryption_configuration",
	"aws_s3_bucket_versioning",
	"aws_security_group_rule",
	"aws_sns_topic_policy",
	"aws_sns_topic_subscription",
	"aws_sqs_queue_policy",
	"aws_volume_attachment",
	"aws_vpc_endpoint_route_table_association",
	"aws_db_instance_automated_backups_replication",
	"aws_vpc_block_public_access_options",
	"aws_vpc_ipam_pool_cidr",
	"aws_vpc_ipam_preview_next_cidr",
}

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
	# Associations and attachments join two resources and carry no tags.
	not endswith(type, "_association")
	not endswith(type, "_attachment")
	# An autoscaling group tags with `tag` blocks (propagated to instances).
	not block.tag
	# `tags = local.tags` is the string "${local.tags}" here: not decidable from one file.
	not is_string(block.tags)
	tags := {k | some k, _ in object.get(block, "tags", {})}
	missing := mandatory_tags - tags
	count(missing) > 0
	msg := sprintf("%s.%s has no %s tag(s)", [type, name, concat(", ", sort(missing))])
}
