package main

# Organisation policy, written in the older Rego syntax (`deny[msg] { ... }`)
# that many Conftest policies still use: guard runs it unchanged. The allowed
# registries are data (policies/data.yaml), not code.

# METADATA
# title: Images come from the organisation's registries
# description: |
#   Containers run images from the registries the organisation mirrors and
#   scans (ECR in the shared services account). An image pulled straight from
#   Docker Hub has not been scanned and can disappear or change.
# custom:
#   id: ORG002
#   severity: error
deny_registry[{"msg": msg, "path": ["spec", "template", "spec", "containers", i, "image"]}] {
	input.kind == "Deployment"
	image := input.spec.template.spec.containers[i].image
	not allowed(image)
	msg := sprintf("container %d of Deployment/%s runs %s, which is not from an allowed registry", [i, input.metadata.name, image])
}

allowed(image) {
	startswith(image, data.registries.allowed[_])
}
