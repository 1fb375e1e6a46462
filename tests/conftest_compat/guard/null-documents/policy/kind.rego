package main

import rego.v1

deny contains msg if {
	not input.kind
	msg := "every document needs a kind"
}
