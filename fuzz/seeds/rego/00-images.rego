# METADATA
# description: |
#   Example of a policy on guard's own input (guard/v1), which knows the
#   environment of every image: something no per-file policy can express.
package guard.images

import rego.v1

tier(env) := t if {
	some e in input.environments
	e.name == env
	t := e.tier
}

# The repositories each container name runs from in the staging tier.
staging_repositories(container) := {img.repository |
	some img in input.images
	img.container == container
	some env in img.environments
	tier(env) == "staging"
}

# METADATA
# title: Prod runs a container from the repository staging tested
# description: |
#   A container that runs in prod comes from the same image repository as the
#   container of the same name in staging. The article's rule is build once,
#   promote the same image: a prod image from another repository was never
#   tested in staging.
# custom:
#   id: ORG100
#   severity: error
deny contains {"msg": msg, "location": img.location} if {
	some img in input.images
	some env in img.environments
	tier(env) == "prod"
	tested := staging_repositories(img.container)
	count(tested) > 0
	not img.repository in tested
	msg := sprintf("container `%s` runs %s in %s, but staging tested %s", [img.container, img.repository, env, concat(", ", sort(tested))])
}
