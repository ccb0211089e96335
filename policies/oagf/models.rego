# OAGF standard library: LLM requests — model allowlist, tools offered, max tokens.
#   models:      ["gpt-4o-mini", "llama-3*"]    allowed models (patterns)
#   max_tokens:  4096                           upper bound on the requested completion tokens
package oagf

deny contains msg if {
	input.action.kind == "llm.request"
	not model_allowed
	msg := sprintf("model %s is not allowed for agent %s", [object.get(target, "model", ""), input.agent.id])
}

model_allowed if {
	some p in allowlist("models")
	matches(p, target.model)
}

deny contains msg if {
	input.action.kind == "llm.request"
	some tool in object.get(args, "tools", [])
	not tool_allowed(tool)
	msg := sprintf("tool %s offered to the model is not allowed for agent %s", [tool, input.agent.id])
}

deny contains msg if {
	input.action.kind == "llm.request"
	requested := args.max_tokens
	some s in scopes
	limit := s.max_tokens
	requested > limit
	msg := sprintf("max_tokens %v is above the limit of %v", [requested, limit])
}
