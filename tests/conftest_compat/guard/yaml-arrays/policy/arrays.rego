package main

import rego.v1

deny contains msg if {
	is_array(input)
	msg := sprintf("array of %d", [count(input)])
}

deny contains msg if {
	msg := sprintf("item x=%v", [input.x])
}
