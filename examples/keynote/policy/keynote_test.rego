# The keynote story against this deployment's real settings (policy/data.yaml).
package keynote_test

buyer := {"id": "buyer", "owner": "dana@acme.example", "team": "supply-chain", "labels": {}, "delegation": [{"agent": "planner"}]}

now := {"now": "2026-11-27T14:05:00.000Z", "unix_ms": 0, "weekday": "Friday", "hour": 14, "minute": 5}

order(total) := {"version": "oagf/v1", "agent": buyer, "context": {}, "budgets": {}, "time": now, "action": {
	"kind": "llm.tool_call",
	"target": {"tool": "place_order"},
	"arguments": {"sku": "STEEL-COIL-7", "quantity": 1200, "total": total, "currency": "USD"},
	"amount": {"value": total, "currency": "USD"},
}}

erp_order(total) := {"version": "oagf/v1", "agent": buyer, "context": {}, "budgets": {}, "time": now, "action": {
	"kind": "http.request",
	"target": {"api": "erp", "method": "POST", "path": "/orders"},
	"body": {"sku": "STEEL-COIL-7", "total": total, "currency": "USD"},
	"amount": {"value": total, "currency": "USD"},
}}

test_routine_order_goes_through if {
	d := data.oagf.decision with input as order(180000)
	d.outcome == "allow"
}

test_the_2_4m_order_escalates_to_procurement if {
	d := data.oagf.decision with input as erp_order(2400000)
	d.outcome == "escalate"
	d.approvers.groups == ["procurement-leads"]
	contains(d.reasons[0], "1000000")
}

test_the_proposal_reaches_the_buyer_so_one_approval_covers_one_order if {
	d := data.oagf.decision with input as order(2400000)
	d.outcome == "allow"
}

test_above_the_hard_ceiling_is_refused if {
	proposed := data.oagf.decision with input as order(6000000)
	proposed.outcome == "deny"
	placed := data.oagf.decision with input as erp_order(6000000)
	placed.outcome == "deny"
}

test_routine_erp_order_goes_through if {
	d := data.oagf.decision with input as erp_order(900000)
	d.outcome == "allow"
}

test_the_planner_does_not_buy if {
	planner := object.union(order(10), {"agent": {"id": "planner", "delegation": []}})
	d := data.oagf.decision with input as planner
	d.outcome == "deny"
}

test_erp_reads_are_redacted if {
	i := object.union(erp_order(0), {"action": {"kind": "http.request", "target": {"api": "erp", "method": "GET", "path": "/suppliers/42"}}})
	d := data.oagf.decision with input as i
	d.outcome == "allow"
	d.obligations == [{"type": "redact", "fields": ["supplier.bank_account"]}]
}

test_unlisted_tool_is_refused if {
	i := object.union(order(10), {"action": {"kind": "llm.tool_call", "target": {"tool": "wire_transfer"}, "arguments": {}}})
	d := data.oagf.decision with input as i
	d.outcome == "deny"
}
