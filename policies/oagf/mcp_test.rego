package oagf_mcp_test

settings := {
	"defaults": {"mcp": {"servers": {"fs": {"tools": ["read_*", "list_directory"], "escalate_tools": ["move_file"], "resources": ["file:///docs/*"], "prompts": ["summarize"]}}}},
	"agents": {
		"writer": {"mcp": {"servers": {"fs": {"tools": ["write_file"]}}, "max_result_bytes": 4096}},
		"strict": {"mcp": {"destructive": "deny", "changed_definitions": "deny", "servers": {"fs": {"tools": ["write_file"]}}}},
		"coder": {"sandbox_languages": ["python"], "mcp": {"destructive": "deny"}},
	},
}

agent(id) := {"id": id, "labels": {}, "delegation": []}

time := {"now": "2026-11-27T14:05:00.000Z", "unix_ms": 0, "weekday": "Friday", "hour": 14, "minute": 5}

pinned := {"digest": "sha256:aa", "pinned_digest": "sha256:aa", "changed": false}

changed := {"digest": "sha256:bb", "pinned_digest": "sha256:aa", "changed": true}

read_only := {"readOnlyHint": true}

destructive := {"readOnlyHint": false, "destructiveHint": true}

call(id, tool, annotations, definition) := act(id, {
	"kind": "mcp.tool_call", "target": {"server": "fs", "tool": tool}, "arguments": {"path": "/docs/a"},
	"tool": {"annotations": annotations, "definition": definition},
})

act(id, action) := d if {
	i := {"version": "oagf/v1", "agent": agent(id), "context": {"surface": "mcp"}, "budgets": {}, "time": time, "action": action}
	d := data.oagf.decision with input as i with data.config as settings
}

listed(server, tool, annotations, definition) := {"server": server, "tool": tool, "annotations": annotations, "definition": definition}

test_allowed_read_only_tool if {
	call("reader", "read_text_file", read_only, pinned).outcome == "allow"
}

test_tool_not_on_the_server_allowlist_denied if {
	d := call("reader", "write_file", destructive, pinned)
	d.outcome == "deny"
	d.reasons == ["MCP tool write_file on server fs is not allowed for agent reader"]
}

test_allowlist_is_per_server if {
	d := act("reader", {"kind": "mcp.tool_call", "target": {"server": "other", "tool": "read_text_file"}, "tool": {"annotations": read_only, "definition": pinned}})
	d.outcome == "deny"
}

test_destructive_tool_escalates_by_default if {
	d := call("writer", "write_file", destructive, pinned)
	d.outcome == "escalate"
	d.reasons == ["MCP tool write_file on server fs may change or destroy data (not declared read-only)"]
}

test_unannotated_tool_counts_as_destructive if {
	call("writer", "write_file", {}, pinned).outcome == "escalate"
}

test_destructive_hint_false_is_not_destructive if {
	call("writer", "write_file", {"readOnlyHint": false, "destructiveHint": false}, pinned).outcome == "allow"
}

test_destructive_deny_setting if {
	call("strict", "write_file", destructive, pinned).outcome == "deny"
}

test_escalate_tools_need_approval if {
	d := call("reader", "move_file", read_only, pinned)
	d.outcome == "escalate"
	"MCP tool move_file on server fs requires human approval" in d.reasons
}

test_changed_definition_escalates_by_default if {
	d := call("reader", "read_text_file", read_only, changed)
	d.outcome == "escalate"
	d.reasons == ["the definition of MCP tool read_text_file on server fs changed since it was pinned (sha256:aa, now sha256:bb)"]
}

test_changed_definition_deny_setting if {
	call("strict", "write_file", {"readOnlyHint": false, "destructiveHint": false}, changed).outcome == "deny"
}

test_result_limit_obligation_smallest_wins if {
	d := call("writer", "read_text_file", read_only, pinned)
	d.obligations == [{"type": "mcp.max_result_bytes", "bytes": 4096}]
}

test_tools_list_hides_disallowed_and_changed_tools if {
	d := act("reader", {"kind": "mcp.tools_list", "target": {}, "tools": [
		listed("fs", "read_text_file", read_only, pinned),
		listed("fs", "read_media_file", read_only, changed),
		listed("fs", "write_file", destructive, pinned),
	]})
	d.outcome == "allow"
	d.obligations == [{"type": "hide_tools", "tools": [
		{"reason": "definition changed since it was pinned", "server": "fs", "tool": "read_media_file"},
		{"reason": "not allowed", "server": "fs", "tool": "write_file"},
	]}]
}

test_tools_list_with_nothing_to_hide_has_no_obligation if {
	d := act("reader", {"kind": "mcp.tools_list", "target": {}, "tools": [listed("fs", "list_directory", read_only, pinned)]})
	d.outcome == "allow"
	d.obligations == []
}

test_tools_list_hides_destructive_tools_when_they_are_denied if {
	d := act("strict", {"kind": "mcp.tools_list", "target": {}, "tools": [listed("fs", "write_file", destructive, pinned)]})
	d.obligations[0].tools[0].reason == "destructive tools are denied"
}

test_resources_list_hides_what_may_not_be_read if {
	d := act("reader", {"kind": "mcp.resources_list", "target": {}, "resources": [
		{"server": "fs", "uri": "file:///docs/readme.md"},
		{"server": "fs", "uri": "file:///etc/passwd"},
	]})
	d.outcome == "allow"
	d.obligations == [{"type": "hide_resources", "resources": [{"server": "fs", "uri": "file:///etc/passwd"}]}]
}

test_prompts_list_hides_what_may_not_be_got if {
	d := act("reader", {"kind": "mcp.prompts_list", "target": {}, "prompts": [
		{"server": "fs", "prompt": "summarize"},
		{"server": "fs", "prompt": "jailbreak"},
	]})
	d.outcome == "allow"
	d.obligations == [{"type": "hide_prompts", "prompts": [{"prompt": "jailbreak", "server": "fs"}]}]
}

test_resource_read_by_uri_pattern if {
	act("reader", {"kind": "mcp.resource_read", "target": {"server": "fs", "uri": "file:///docs/readme.md"}}).outcome == "allow"
	act("reader", {"kind": "mcp.resource_read", "target": {"server": "fs", "uri": "file:///etc/passwd"}}).outcome == "deny"
	act("reader", {"kind": "mcp.resource_subscribe", "target": {"server": "fs", "uri": "file:///etc/passwd"}}).outcome == "deny"
}

test_prompt_get_by_name if {
	act("reader", {"kind": "mcp.prompt_get", "target": {"server": "fs", "prompt": "summarize"}, "arguments": {}}).outcome == "allow"
	act("reader", {"kind": "mcp.prompt_get", "target": {"server": "fs", "prompt": "jailbreak"}, "arguments": {}}).outcome == "deny"
}

sandbox_tool(definition) := object.union(listed("sandbox", "run", {"readOnlyHint": false, "destructiveHint": false, "openWorldHint": true}, definition), {"action": "sandbox.exec"})

test_tools_list_shows_the_sandbox_tool_to_an_agent_that_may_run_code if {
	d := act("coder", {"kind": "mcp.tools_list", "target": {}, "tools": [sandbox_tool(pinned), listed("fs", "write_file", destructive, pinned)]})
	d.obligations == [{"type": "hide_tools", "tools": [
		{"reason": "destructive tools are denied", "server": "fs", "tool": "write_file"},
		{"reason": "not allowed", "server": "fs", "tool": "write_file"},
	]}]
}

test_tools_list_hides_the_sandbox_tool_from_an_agent_that_may_not_run_code if {
	d := act("reader", {"kind": "mcp.tools_list", "target": {}, "tools": [sandbox_tool(pinned)]})
	d.obligations == [{"type": "hide_tools", "tools": [{"reason": "the agent may not run code in the sandbox", "server": "sandbox", "tool": "run"}]}]
}

test_tools_list_hides_a_changed_sandbox_tool if {
	d := act("coder", {"kind": "mcp.tools_list", "target": {}, "tools": [sandbox_tool(changed)]})
	d.obligations == [{"type": "hide_tools", "tools": [{"reason": "definition changed since it was pinned", "server": "sandbox", "tool": "run"}]}]
}
