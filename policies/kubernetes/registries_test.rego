package main

import rego.v1

test_docker_hub_image_is_denied if {
	results := deny_registry with input as parse_config_file("fixtures/deployment-unlabelled.yaml")
	count(results) == 1
	some r in results
	r.path == ["spec", "template", "spec", "containers", 0, "image"]
}

test_ecr_image_passes if {
	count(deny_registry) == 0 with input as parse_config_file("fixtures/deployment-labelled.yaml")
}

test_allowed_registries_are_data if {
	count(deny_registry) == 0 with input as parse_config_file("fixtures/deployment-unlabelled.yaml")
		with data.registries.allowed as ["nginx"]
}
