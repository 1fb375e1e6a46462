package main

import rego.v1

# ENV is a list of (name, value, separator) triples.
env_names contains name if {
	some instr in input
	instr.Cmd == "env"
	some k, name in instr.Value
	k % 3 == 0
}

deny contains msg if {
	some name in env_names
	contains(name, "SECRET")
	msg := sprintf("ENV %s looks like a secret", [name])
}

deny contains msg if {
	some instr in input
	instr.Cmd == "onbuild"
	msg := sprintf("ONBUILD %s is not allowed", [instr.SubCmd])
}

# The shell form is one string.
warn contains msg if {
	some instr in input
	instr.Cmd == "run"
	not instr.JSON
	some v in instr.Value
	contains(v, "| sh")
	msg := sprintf("RUN pipes a download into a shell: %s", [v])
}

deny contains msg if {
	some instr in input
	instr.Cmd == "copy"
	some flag in instr.Flags
	startswith(flag, "--chown=")
	msg := sprintf("COPY sets ownership with %s", [flag])
}

# Comments are instructions, in the stage of the instruction after them.
deny contains msg if {
	some instr in input
	instr.Cmd == "comment"
	startswith(instr.Value[0], "TODO")
	msg := sprintf("unresolved comment in stage %d: %s", [instr.Stage, instr.Value[0]])
}
