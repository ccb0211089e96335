# OAGF standard library: settings lookup shared by the rule modules.
#
# Settings live in the bundle's data under `config` (data.yaml → `config:`), at three scopes:
#   config.defaults            every agent
#   config.teams.<team>        agents of that team (input.agent.team)
#   config.agents.<agent id>   one agent
# Allowlists (models, tools, apis) are the union of the three scopes; limits from all three apply and
# the strictest wins, so a narrower scope can widen what an agent may reach but never loosen a limit.
package oagf

default cfg := {}

cfg := data.config

agent_settings := object.get(object.get(cfg, "agents", {}), input.agent.id, {})

team_settings := object.get(object.get(cfg, "teams", {}), object.get(input.agent, "team", ""), {})

scopes := [object.get(cfg, "defaults", {}), team_settings, agent_settings]

# Union of a list setting across the scopes.
allowlist(key) := {item | some s in scopes; some item in object.get(s, key, [])}

# Every entry of a list setting across the scopes (for rules that all apply).
all_entries(key) := [item | some s in scopes; some item in object.get(s, key, [])]

# Pattern match: exact, "*" for anything, or a trailing "*" for a prefix.
matches(pattern, _) if pattern == "*"

matches(pattern, value) if pattern == value

matches(pattern, value) if {
	endswith(pattern, "*")
	startswith(value, trim_suffix(pattern, "*"))
}

governed_kinds := {
	"llm.request", "llm.tool_call", "http.request", "sandbox.exec",
	"llm.shell_call", "llm.computer_call", "llm.patch_call", "llm.mcp_approval", "llm.unknown_item",
} | mcp_kinds

target := object.get(input.action, "target", {})

args := object.get(input.action, "arguments", {})
