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

# The red-team finding: the $1M/$5M limits named only the buyer, while POST /orders is allowed for the whole team,
# so the planner could book $4.9M with no approval. Money moves only under a limit that covers the caller.
test_the_planner_cannot_book_an_order_with_the_erp_directly if {
	planner := {"id": "planner", "owner": "dana@acme.example", "team": "supply-chain", "labels": {}, "delegation": []}
	d := data.oagf.decision with input as object.union(erp_order(4900000), {"agent": planner})
	d.outcome == "deny"
	contains(d.reasons[0], "no spending limit covers agent planner")
	small := data.oagf.decision with input as object.union(erp_order(10), {"agent": planner})
	small.outcome == "deny"
}

test_an_order_whose_amount_cannot_be_read_is_refused if {
	i := object.union(erp_order(0), {"action": {"kind": "http.request", "target": {"api": "erp", "method": "POST", "path": "/orders"}, "body": {"sku": "X"}, "amount_expected": true}})
	unread := json.remove(i, ["action/amount"])
	d := data.oagf.decision with input as unread
	d.outcome == "deny"
}

test_erp_reads_are_redacted if {
	i := object.union(erp_order(0), {"action": {"kind": "http.request", "target": {"api": "erp", "method": "GET", "path": "/suppliers/42"}}})
	d := data.oagf.decision with input as json.remove(i, ["action/amount", "action/body"])
	d.outcome == "allow"
	d.obligations == [{"type": "redact", "fields": ["supplier.bank_account"]}]
}

test_unlisted_tool_is_refused if {
	i := object.union(order(10), {"action": {"kind": "llm.tool_call", "target": {"tool": "wire_transfer"}, "arguments": {}}})
	d := data.oagf.decision with input as i
	d.outcome == "deny"
}
