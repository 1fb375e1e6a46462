package main

import rego.v1

# Organisation policy: every workload carries the labels cost reports, alert
# routing and Service selectors depend on (Conftest style, Rego v1).

required_labels := {"app", "team"}

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}

# METADATA
# title: Workloads carry the app and team labels
# description: |
#   Every Deployment, StatefulSet, DaemonSet, Job and CronJob carries the
#   `app` and `team` labels. Cost reports are grouped by `team`, alerts are
#   routed by it, and Services select pods by `app`: a workload without them
#   is invisible to all three.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
#     description: Kubernetes recommended labels
# custom:
#   id: ORG001
#   severity: warning
deny_missing_labels contains {"msg": msg, "path": ["metadata"]} if {
	input.kind in workload_kinds
	missing := required_labels - {l | some l; input.metadata.labels[l]}
	count(missing) > 0
	msg := sprintf("%s/%s has no %s label(s)", [input.kind, input.metadata.name, concat(", ", sort(missing))])
}

# A workload can opt out with an annotation that names who agreed to it.
exception contains rules if {
	input.kind in workload_kinds
	input.metadata.annotations["policy.example.com/labels-exempt-by"] != ""
	rules := ["missing_labels"]
}
