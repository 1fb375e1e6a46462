deny contains msg if {
	input.kind == "Deployment"
	n := count(numbers.range(1, 1e10))
	msg := sprintf("%d", [n])
}
