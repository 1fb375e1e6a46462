package main

import rego.v1

test_deployment_without_team_label_is_denied if {
	results := deny_missing_labels with input as parse_config_file("fixtures/deployment-unlabelled.yaml")
	some r in results
	r.msg == "Deployment/web has no team label(s)"
	r.path == ["metadata"]
}

test_labelled_deployment_passes if {
	count(deny_missing_labels) == 0 with input as parse_config_file("fixtures/deployment-labelled.yaml")
}

test_services_are_not_workloads if {
	count(deny_missing_labels) == 0 with input as {"kind": "Service", "metadata": {"name": "web"}}
}

test_exception_names_the_rule if {
	exception == {["missing_labels"]} with input as {
		"kind": "Deployment",
		"metadata": {"name": "legacy", "annotations": {"policy.example.com/labels-exempt-by": "platform-team"}},
	}
}

test_null_labels_are_missing_labels if {
	results := deny_missing_labels with input as {"kind": "Deployment", "metadata": {"name": "w", "labels": null}}
	{r.msg | some r in results} == {"Deployment/w has no app, team label(s)"}
}
