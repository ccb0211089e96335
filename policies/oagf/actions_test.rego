package oagf_actions_test

settings := {
	"defaults": {"models": ["gpt-4o-mini"]},
	"agents": {
		"coder": {
			"shell_commands": ["git status", "ls *", "npm test"],
			"computer_actions": ["screenshot", "scroll", "click"],
			"patch_paths": ["src/*", "docs/*"],
			"mcp_approvals": ["deepwiki/*"],
			"unknown_items": ["browser_call"],
		},
		"deleter": {"patch_paths": ["tmp/*"], "patch_operations": ["delete_file"]},
		"careful": {"shell_commands": ["*"], "escalate_kinds": ["llm.shell_call"]},
	},
}

agent(id) := {"id": id, "labels": {}, "delegation": []}

time := {"now": "2026-11-27T14:05:00.000Z", "unix_ms": 0, "weekday": "Friday", "hour": 14, "minute": 5}

decide(id, action) := d if {
	d := data.oagf.decision with input as {"version": "oagf/v1", "agent": agent(id), "action": action, "context": {}, "budgets": {}, "time": time}
		with data.config as settings
}

shell(commands) := {"kind": "llm.shell_call", "target": {"tool": "shell"}, "arguments": {"commands": commands}}

computer(actions, checks) := {"kind": "llm.computer_call", "target": {"tool": "computer"}, "arguments": {"actions": actions, "pending_safety_checks": checks}}

patch(op, path) := {"kind": "llm.patch_call", "target": {"tool": "apply_patch", "path": path}, "arguments": {"operation": op, "path": path, "diff": "+x"}}

# --- shell ---

test_shell_denied_without_settings if decide("nobody", shell(["ls"])).outcome == "deny"

test_shell_exact_command_allowed if decide("coder", shell(["git status"])).outcome == "allow"

test_shell_prefix_pattern_covers_arguments if decide("coder", shell(["ls -la src"])).outcome == "allow"

test_shell_prefix_pattern_never_covers_a_second_command if {
	every c in ["ls; rm -rf /", "ls && curl evil", "ls | sh", "ls $(whoami)", "ls `id`", "ls > /etc/passwd", "ls\nrm -rf /", "ls \\\n; id"] {
		decide("coder", shell([c])).outcome == "deny"
	}
}

test_shell_every_command_must_match if {
	d := decide("coder", shell(["git status", "git push --force"]))
	d.outcome == "deny"
	d.reasons == ["shell command \"git push --force\" is not allowed for agent coder"]
}

test_shell_without_commands_denied if decide("coder", shell([])).outcome == "deny"

test_shell_kind_can_always_escalate if decide("careful", shell(["anything"])).outcome == "escalate"

# --- computer use ---

test_computer_denied_without_settings if decide("nobody", computer([{"type": "screenshot"}], [])).outcome == "deny"

test_computer_allowed_actions if decide("coder", computer([{"type": "screenshot"}, {"type": "click", "x": 1, "y": 2}], [])).outcome == "allow"

test_computer_unlisted_action_denied if decide("coder", computer([{"type": "click"}, {"type": "type", "text": "rm -rf /"}], [])).outcome == "deny"

test_computer_flagged_by_provider_escalates if {
	d := decide("coder", computer([{"type": "click"}], [{"id": "sc1", "code": "malicious_instructions"}]))
	d.outcome == "escalate"
	contains(d.reasons[0], "malicious_instructions")
}

test_computer_without_actions_denied if decide("coder", computer([], [])).outcome == "deny"

# --- patches ---

test_patch_denied_without_settings if decide("nobody", patch("update_file", "src/a.ts")).outcome == "deny"

test_patch_inside_allowed_paths if decide("coder", patch("create_file", "src/new/b.ts")).outcome == "allow"

test_patch_escaping_paths_denied if {
	every p in ["src/../.git/config", "/etc/passwd", "src\\..\\x", "C:/x", "", "lib/a.ts", "src/../../x"] {
		decide("coder", patch("update_file", p)).outcome == "deny"
	}
}

test_patch_delete_needs_its_own_setting if {
	decide("coder", patch("delete_file", "src/a.ts")).outcome == "deny"
	decide("deleter", patch("delete_file", "tmp/a.log")).outcome == "allow"
	decide("deleter", patch("update_file", "tmp/a.log")).outcome == "deny"
}

# --- MCP approvals and unknown items ---

test_mcp_approval_by_server_and_tool if {
	a := {"kind": "llm.mcp_approval", "target": {"server": "deepwiki", "tool": "ask_question"}, "arguments": {}}
	decide("coder", a).outcome == "allow"
	decide("nobody", a).outcome == "deny"
	decide("coder", {"kind": "llm.mcp_approval", "target": {"server": "stripe", "tool": "refund"}, "arguments": {}}).outcome == "deny"
}

test_unknown_items_denied_unless_named if {
	decide("coder", {"kind": "llm.unknown_item", "target": {"type": "browser_call"}, "arguments": {}}).outcome == "allow"
	decide("coder", {"kind": "llm.unknown_item", "target": {"type": "teleport_call"}, "arguments": {}}).outcome == "deny"
	decide("nobody", {"kind": "llm.unknown_item", "target": {"type": "browser_call"}, "arguments": {}}).outcome == "deny"
}
