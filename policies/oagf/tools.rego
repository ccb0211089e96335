# OAGF standard library: tool calls proposed by a model (llm.tool_call) and MCP tools/call (mcp.tool_call;
# mcp.rego adds per-server allowlists, which the global `tools` list joins).
#   tools:           ["check_inventory", "place_order"]   allowed tools (patterns)
#   escalate_tools:  ["wire_transfer"]                    always need a human
package oagf

tool_kinds := {"llm.tool_call", "mcp.tool_call"}

tool_allowed(tool) if {
	some p in allowlist("tools")
	matches(p, tool)
}

deny contains msg if {
	input.action.kind == "llm.tool_call"
	not tool_allowed(object.get(target, "tool", ""))
	msg := sprintf("tool %s is not allowed for agent %s", [object.get(target, "tool", ""), input.agent.id])
}

escalate contains msg if {
	input.action.kind in tool_kinds
	some p in allowlist("escalate_tools")
	matches(p, target.tool)
	msg := sprintf("tool %s requires human approval", [target.tool])
}
