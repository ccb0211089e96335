package oagf_test

settings := {
	"defaults": {"models": ["gpt-4o-mini"], "max_tokens": 4096},
	"approvers": {"groups": ["security"]},
	"teams": {"supply-chain": {
		"tools": ["check_inventory", "place_order"],
		"apis": {"erp": ["GET /inventory*", "POST /orders"]},
		"redact": [{"api": "erp", "fields": ["supplier.bank_account"]}],
	}},
	"agents": {
		"planner": {
			"models": ["llama-3*"],
			"escalate_tools": ["cancel_contract"],
			"limits": [{
				"tool": "place_order", "currency": "USD", "escalate_above": 1000000, "deny_above": 5000000,
				"approvers": {"groups": ["procurement-leads"], "min": 2},
			}],
			"hours": {"days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], "from": 6, "to": 20, "kinds": ["llm.tool_call"]},
		},
		"night-bot": {"tools": ["*"], "hours": {"from": 22, "to": 24, "outside": "escalate"}},
		"spender": {"models": ["gpt-4o-mini"], "budget_escalate_below": 0.1},
		"contracts-bot": {"tools": ["cancel_contract"], "escalate_tools": ["cancel_contract"]},
		"analyst": {"sandbox_languages": ["python", "shell"], "sandbox_hosts": ["pypi.org:443"], "sandbox_max_code_bytes": 500},
	},
}

planner := {"id": "planner", "team": "supply-chain", "labels": {}, "delegation": []}

weekday := {"now": "2026-11-27T14:05:00.000Z", "unix_ms": 0, "weekday": "Friday", "hour": 14, "minute": 5}

saturday := {"now": "2026-11-28T14:05:00.000Z", "unix_ms": 0, "weekday": "Saturday", "hour": 14, "minute": 5}

input_for(agent, action) := {"version": "oagf/v1", "agent": agent, "action": action, "context": {}, "budgets": {}, "time": weekday}

order(total) := {
	"kind": "llm.tool_call",
	"target": {"tool": "place_order"},
	"arguments": {"sku": "STEEL-7", "total": total},
	"amount": {"value": total, "currency": "USD"},
}

decide(i) := d if {
	d := data.oagf.decision with input as i with data.config as settings
}

# --- model allowlists ---

test_model_on_default_list_allowed if {
	d := decide(input_for(planner, {"kind": "llm.request", "target": {"model": "gpt-4o-mini"}, "arguments": {}}))
	d.outcome == "allow"
}

test_model_prefix_pattern_for_agent_allowed if {
	d := decide(input_for(planner, {"kind": "llm.request", "target": {"model": "llama-3.1-70b"}, "arguments": {}}))
	d.outcome == "allow"
}

test_model_not_listed_denied if {
	d := decide(input_for(planner, {"kind": "llm.request", "target": {"model": "gpt-5"}, "arguments": {}}))
	d.outcome == "deny"
	d.reasons == ["model gpt-5 is not allowed for agent planner"]
}

test_max_tokens_above_limit_denied if {
	d := decide(input_for(planner, {"kind": "llm.request", "target": {"model": "gpt-4o-mini"}, "arguments": {"max_tokens": 8000}}))
	d.outcome == "deny"
}

test_offered_tool_not_allowed_denied if {
	d := decide(input_for(planner, {"kind": "llm.request", "target": {"model": "gpt-4o-mini"}, "arguments": {"tools": ["place_order", "delete_db"]}}))
	d.outcome == "deny"
	d.reasons == ["tool delete_db offered to the model is not allowed for agent planner"]
}

# --- tool allowlists per team and agent ---

test_team_tool_allowed if {
	d := decide(input_for(planner, {"kind": "llm.tool_call", "target": {"tool": "check_inventory"}, "arguments": {}}))
	d.outcome == "allow"
}

test_tool_outside_team_list_denied if {
	other := {"id": "analyst", "team": "finance", "labels": {}, "delegation": []}
	d := decide(input_for(other, {"kind": "llm.tool_call", "target": {"tool": "check_inventory"}, "arguments": {}}))
	d.outcome == "deny"
}

test_mcp_tool_uses_the_same_allowlist if {
	d := decide(input_for(planner, {"kind": "mcp.tool_call", "target": {"server": "erp", "tool": "check_inventory"}, "arguments": {}, "tool": {"annotations": {"readOnlyHint": true}}}))
	d.outcome == "allow"
}

test_escalate_tool_not_on_allowlist_is_denied if {
	d := decide(input_for(planner, {"kind": "llm.tool_call", "target": {"tool": "cancel_contract"}, "arguments": {}}))
	d.outcome == "deny"
}

test_escalate_tool_escalates_to_default_approvers if {
	bot := {"id": "contracts-bot", "labels": {}, "delegation": []}
	d := decide(input_for(bot, {"kind": "llm.tool_call", "target": {"tool": "cancel_contract"}, "arguments": {}}))
	d.outcome == "escalate"
	d.approvers == {"groups": ["security"], "users": [], "min": 1}
	d.reasons == ["tool cancel_contract requires human approval"]
}

# --- API allowlists and redaction ---

test_api_route_allowed_with_redaction if {
	d := decide(input_for(planner, {"kind": "http.request", "target": {"api": "erp", "method": "GET", "path": "/inventory/STEEL-7"}}))
	d.outcome == "allow"
	d.obligations == [{"type": "redact", "fields": ["supplier.bank_account"]}]
}

test_api_route_method_not_allowed if {
	d := decide(input_for(planner, {"kind": "http.request", "target": {"api": "erp", "method": "DELETE", "path": "/orders/1"}}))
	d.outcome == "deny"
	d.reasons == ["DELETE /orders/1 on API erp is not allowed for agent planner"]
}

test_unknown_api_denied if {
	d := decide(input_for(planner, {"kind": "http.request", "target": {"api": "hr", "method": "GET", "path": "/people"}}))
	d.outcome == "deny"
}

# --- amount limits and escalation thresholds ---

test_order_within_limit_allowed if {
	decide(input_for(planner, order(250000))).outcome == "allow"
}

test_order_at_limit_allowed if {
	decide(input_for(planner, order(1000000))).outcome == "allow"
}

test_order_over_limit_escalates_to_named_approvers if {
	d := decide(input_for(planner, order(2400000)))
	d.outcome == "escalate"
	d.approvers == {"groups": ["procurement-leads"], "users": [], "min": 2}
	count(d.reasons) == 1
}

test_order_over_ceiling_denied if {
	d := decide(input_for(planner, order(7500000)))
	d.outcome == "deny"
	count(d.reasons) == 1
}

test_order_without_amount_denied if {
	action := object.remove(order(10), ["amount"])
	decide(input_for(planner, action)).outcome == "deny"
}

test_order_in_other_currency_denied if {
	action := object.union(order(10), {"amount": {"value": 10, "currency": "EUR"}})
	decide(input_for(planner, action)).outcome == "deny"
}

# --- money moves only under a limit ---

test_amount_without_a_covering_limit_denied if {
	other := {"id": "other", "team": "supply-chain", "labels": {}, "delegation": []}
	d := decide(input_for(other, order(10)))
	d.outcome == "deny"
	d.reasons == ["no spending limit covers agent other for tool place_order: an action that moves money needs one (config limits)"]
}

test_api_order_without_a_covering_limit_denied if {
	action := {"kind": "http.request", "target": {"api": "erp", "method": "POST", "path": "/orders"}, "body": {"total": 4900000}, "amount": {"value": 4900000, "currency": "USD"}}
	d := decide(input_for(planner, action))
	d.outcome == "deny"
	d.reasons == ["no spending limit covers agent planner for POST /orders on API erp: an action that moves money needs one (config limits)"]
}

test_unreadable_amount_denied_without_any_limit if {
	action := {"kind": "http.request", "target": {"api": "erp", "method": "POST", "path": "/orders"}, "body": {"qty": 1}, "amount_expected": true}
	d := decide(input_for(planner, action))
	d.outcome == "deny"
	some r in d.reasons
	startswith(r, "the amount of this POST /orders on API erp could not be read")
}

test_unreadable_body_denied_unless_the_route_allows_raw_bodies if {
	content := {"type": "text/plain", "bytes": 13, "digest": "sha256:00"}
	post := {"kind": "http.request", "target": {"api": "erp", "method": "POST", "path": "/orders"}, "content": content}
	d := decide(input_for(planner, post))
	d.outcome == "deny"
	some r in d.reasons
	contains(r, "body the policy cannot read")
	raw := object.union(settings, {"teams": {"supply-chain": object.union(settings.teams["supply-chain"], {"raw_bodies": {"erp": ["POST /orders"]}})}})
	data.oagf.decision.outcome == "allow" with input as input_for(planner, post) with data.config as raw
}

# --- sandbox ---

analyst := {"id": "analyst", "labels": {}, "delegation": []}

run(language, bytes, hosts) := {"kind": "sandbox.exec", "target": {"language": language, "driver": "bwrap"}, "arguments": {"code": "print(1)", "code_bytes": bytes, "network": {"allow": hosts}}}

test_sandbox_allowed_language_without_network_allowed if {
	decide(input_for(analyst, run("python", 10, []))).outcome == "allow"
}

test_sandbox_language_not_listed_denied if {
	d := decide(input_for(analyst, run("binary", 10, [])))
	d.outcome == "deny"
	d.reasons == ["running binary code in the sandbox is not allowed for agent analyst"]
	decide(input_for(planner, run("python", 10, []))).outcome == "deny"
}

test_sandbox_large_code_denied if {
	d := decide(input_for(analyst, run("python", 501, [])))
	d.outcome == "deny"
	contains(d.reasons[0], "over the 500 bytes")
}

test_sandbox_network_escalates_unless_the_host_is_listed if {
	decide(input_for(analyst, run("python", 10, ["pypi.org:443"]))).outcome == "allow"
	d := decide(input_for(analyst, run("python", 10, ["pypi.org:443", "evil.example:443"])))
	d.outcome == "escalate"
	d.reasons == ["the code asks to reach evil.example:443, which needs human approval"]
}

# --- time windows ---

test_tool_call_outside_weekdays_denied if {
	i := object.union(input_for(planner, order(10)), {"time": saturday})
	d := decide(i)
	d.outcome == "deny"
}

test_window_limited_to_kinds if {
	i := object.union(input_for(planner, {"kind": "llm.request", "target": {"model": "gpt-4o-mini"}, "arguments": {}}), {"time": saturday})
	decide(i).outcome == "allow"
}

test_outside_window_can_escalate if {
	bot := {"id": "night-bot", "labels": {}, "delegation": []}
	d := decide(input_for(bot, {"kind": "llm.tool_call", "target": {"tool": "anything"}, "arguments": {}}))
	d.outcome == "escalate"
	d.approvers.groups == ["security"]
}

# --- budgets ---

budget(requested, remaining) := {"limits": [{
	"budget": "daily-llm", "scope": "agent", "subject": "spender", "meter": "llm_spend", "window": "day",
	"window_start": null, "window_end": null, "currency": "USD", "cap": 10, "spent": 10 - remaining,
	"reserved": 0, "remaining": remaining, "requested": requested,
}]}

spender := {"id": "spender", "labels": {}, "delegation": []}

llm_call := {"kind": "llm.request", "target": {"model": "gpt-4o-mini"}, "arguments": {}}

test_budget_with_room_allowed if {
	decide(object.union(input_for(spender, llm_call), {"budgets": budget(1, 8)})).outcome == "allow"
}

test_budget_exceeded_denied if {
	d := decide(object.union(input_for(spender, llm_call), {"budgets": budget(2, 1)}))
	d.outcome == "deny"
}

test_budget_nearly_spent_escalates if {
	d := decide(object.union(input_for(spender, llm_call), {"budgets": budget(1, 1.5)}))
	d.outcome == "escalate"
}

# --- fail closed ---

test_ungoverned_kind_denied if {
	d := decide(input_for(planner, {"kind": "shell.exec", "target": {}}))
	d.outcome == "deny"
	d.reasons == ["action kind shell.exec is not governed by this policy"]
}

test_no_settings_denies_everything if {
	d := data.oagf.decision with input as input_for(planner, {"kind": "llm.request", "target": {"model": "gpt-4o-mini"}, "arguments": {}}) with data.config as {}
	d.outcome == "deny"
}
