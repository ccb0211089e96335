# OAGF standard library: agent-written code run in the sandbox (sandbox.exec).
#   sandbox_languages:      [python, javascript, shell]     languages an agent may run (binary only when listed)
#   sandbox_hosts:          ["pypi.org:443"]                network destinations reachable without a human; any
#                                                           other requested host escalates
#   sandbox_max_code_bytes: 1000000                          larger code (or binary) is refused (default 1 MB)
package oagf

sandbox_language_allowed(language) if language in allowlist("sandbox_languages")

deny contains msg if {
	input.action.kind == "sandbox.exec"
	not sandbox_language_allowed(target.language)
	msg := sprintf("running %s code in the sandbox is not allowed for agent %s", [target.language, input.agent.id])
}

sandbox_max_code_bytes := min({n | some s in scopes; n := s.sandbox_max_code_bytes} | {1000000})

deny contains msg if {
	input.action.kind == "sandbox.exec"
	args.code_bytes > sandbox_max_code_bytes
	msg := sprintf("%s code of %d bytes is over the %d bytes agent %s may run", [target.language, args.code_bytes, sandbox_max_code_bytes, input.agent.id])
}

escalate contains msg if {
	input.action.kind == "sandbox.exec"
	some host in object.get(object.get(args, "network", {}), "allow", [])
	not host in allowlist("sandbox_hosts")
	msg := sprintf("the code asks to reach %s, which needs human approval", [host])
}
