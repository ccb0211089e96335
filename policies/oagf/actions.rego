# OAGF standard library: output items a model proposes that act in the world other than through a named tool —
# shell commands (llm.shell_call), computer use (llm.computer_call), file patches (llm.patch_call), approvals of
# remote MCP calls (llm.mcp_approval) — and items the gatekeeper does not know (llm.unknown_item).
# Each is denied unless configured:
#   shell_commands:    ["git status", "ls *"]          every command must match: exact, "*" for any command, or
#                                                       "prefix *" when the rest holds no shell operators
#   computer_actions:  [screenshot, scroll, click]      allowed UI action types
#   patch_paths:       ["src/*", "docs/*"]              files a patch may touch (relative, no "..")
#   patch_operations:  [create_file, update_file]       (default; add delete_file to allow deletes)
#   mcp_approvals:     ["deepwiki/*"]                   "server/tool" the agent may approve
#   unknown_items:     ["browser_call"]                 unknown item types the policy may release
#   escalate_kinds:    [llm.shell_call]                 allowed actions of these kinds still need a human
# A computer action the provider flagged (pending_safety_checks) always needs a human.
package oagf

# --- shell ---

deny contains msg if {
	input.action.kind == "llm.shell_call"
	count(object.get(args, "commands", [])) == 0
	msg := "shell call without commands"
}

deny contains msg if {
	input.action.kind == "llm.shell_call"
	some command in object.get(args, "commands", [])
	not shell_command_allowed(command)
	msg := sprintf("shell command %s is not allowed for agent %s", [json.marshal(command), input.agent.id])
}

shell_command_allowed(command) if {
	some p in allowlist("shell_commands")
	shell_matches(p, command)
}

shell_matches(pattern, _) if pattern == "*"

shell_matches(pattern, command) if pattern == command

# A prefix pattern covers arguments, never a second command: the rest may not chain, substitute or redirect.
shell_matches(pattern, command) if {
	pattern != "*"
	endswith(pattern, "*")
	prefix := trim_suffix(pattern, "*")
	startswith(command, prefix)
	rest := substring(command, count(prefix), -1)
	not regex.match("[;&|`$<>(){}\\\\\n\r]", rest)
}

# --- computer use ---

deny contains msg if {
	input.action.kind == "llm.computer_call"
	count(object.get(args, "actions", [])) == 0
	msg := "computer call without actions"
}

deny contains msg if {
	input.action.kind == "llm.computer_call"
	some a in object.get(args, "actions", [])
	not object.get(a, "type", "") in allowlist("computer_actions")
	msg := sprintf("computer action %s is not allowed for agent %s", [object.get(a, "type", ""), input.agent.id])
}

escalate contains msg if {
	input.action.kind == "llm.computer_call"
	checks := object.get(args, "pending_safety_checks", [])
	count(checks) > 0
	codes := [object.get(c, "code", "unspecified") | some c in checks]
	msg := sprintf("the provider flagged this computer action (%s): a human must confirm it", [concat(", ", codes)])
}

# --- file patches ---

deny contains msg if {
	input.action.kind == "llm.patch_call"
	path := object.get(target, "path", "")
	not patch_path_allowed(path)
	msg := sprintf("patch to %s is not allowed for agent %s", [json.marshal(path), input.agent.id])
}

deny contains msg if {
	input.action.kind == "llm.patch_call"
	op := object.get(args, "operation", "")
	not op in patch_operations
	msg := sprintf("patch operation %s is not allowed for agent %s", [json.marshal(op), input.agent.id])
}

patch_operations := allowlist("patch_operations") if count(allowlist("patch_operations")) > 0

default patch_operations := {"create_file", "update_file"}

patch_path_allowed(path) if {
	not unsafe_path(path)
	some p in allowlist("patch_paths")
	matches(p, path)
}

unsafe_path(path) if path == ""

unsafe_path(path) if startswith(path, "/")

unsafe_path(path) if contains(path, "\\")

unsafe_path(path) if regex.match("^[A-Za-z]:", path)

unsafe_path(path) if {
	some segment in split(path, "/")
	segment == ".."
}

# --- approvals of remote MCP calls ---

deny contains msg if {
	input.action.kind == "llm.mcp_approval"
	not mcp_approval_allowed
	msg := sprintf("approving MCP tool %s on server %s is not allowed for agent %s", [object.get(target, "tool", ""), object.get(target, "server", ""), input.agent.id])
}

mcp_approval_allowed if {
	some p in allowlist("mcp_approvals")
	matches(p, sprintf("%s/%s", [object.get(target, "server", ""), object.get(target, "tool", "")]))
}

# --- items the gatekeeper does not know ---

deny contains msg if {
	input.action.kind == "llm.unknown_item"
	not object.get(target, "type", "") in allowlist("unknown_items")
	msg := sprintf("output of unknown type %s is not allowed for agent %s", [json.marshal(object.get(target, "type", "")), input.agent.id])
}

# --- a human for every action of a kind ---

escalate contains msg if {
	input.action.kind in allowlist("escalate_kinds")
	msg := sprintf("%s actions require human approval", [input.action.kind])
}
