package guard.images

import rego.v1

environments := [{"name": "staging", "tier": "staging"}, {"name": "prod", "tier": "prod"}]

location := {"file": "k8s/overlays/prod/kustomization.yaml", "line": 7, "column": 14}

test_prod_from_another_repository_is_denied if {
	results := deny with input as {
		"schema": "guard/v1",
		"environments": environments,
		"images": [
			{"container": "app", "repository": "acme/app", "image": "acme/app:1.4.2", "environments": ["staging"], "location": location},
			{"container": "app", "repository": "acme/app-hotfix", "image": "acme/app-hotfix:1.4.3", "environments": ["prod"], "location": location},
		],
	}
	some r in results
	r.msg == "container `app` runs acme/app-hotfix in prod, but staging tested acme/app"
	r.location == location
}

test_same_repository_passes if {
	count(deny) == 0 with input as {
		"schema": "guard/v1",
		"environments": environments,
		"images": [
			{"container": "app", "repository": "acme/app", "environments": ["staging"], "location": location},
			{"container": "app", "repository": "acme/app", "environments": ["prod"], "location": location},
		],
	}
}
