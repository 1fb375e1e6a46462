package main

import rego.v1

deny contains msg if {
	data.conftest.file.name == "prod.yaml"
	msg := sprintf("%s: production files are frozen", [data.conftest.file.name])
}

warn contains msg if {
	not startswith(data.conftest.file.dir, "")
	msg := "data.conftest.file.dir is missing"
}
