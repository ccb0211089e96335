# OAGF standard library: session-aware rules on input.session (present when gatekeeper.yaml has `sessions:`).
#   labels:                                   label what an action returns (obligation "label"), carried into the session
#     - {tool: read_document, labels: [private], source: board-documents}
#     - {api: docs, method: GET, path: "/documents/*", labels: [private]}
#     - {tool: fetch_page, labels: [untrusted]}
#   egress:                                   where data leaves: exfiltration of private or secret data escalates
#     tools: [http_post, send_email]          tool calls that send out; their destination is arguments.url / .to / .recipient
#     apis: [webhooks]                        APIs outside the organisation
#     allow: ["https://*.acme.example/*", "webhooks"]   destinations (or API names) private data may go to
#     labels: [private, secret]               the default
#   destructive_tools: ["delete_*"]           destructive calls escalate when their arguments carry untrusted text
#   loop_max_failures: 3                      the same call failing (denied, or failed when carried out) this often: denied
# Limits with a `window` (amounts.rego) sum the session's orders within it: split orders escalate.
package oagf

session := object.get(input, "session", {"actions": [], "labels": [], "flows": [], "digest": "", "repeats": {"count": 0, "failed": 0}})

# Labels: obligations on this action's result.
label_rules contains r if {
	some r in all_entries("labels")
	label_rule_applies(r)
}

label_rule_applies(r) if {
	input.action.kind in tool_kinds
	matches(r.tool, object.get(target, "tool", ""))
	matches(object.get(r, "server", "*"), object.get(target, "server", ""))
}

label_rule_applies(r) if {
	input.action.kind == "http.request"
	r.api == target.api
	matches(upper(object.get(r, "method", "*")), target.method)
	matches(object.get(r, "path", "*"), target.path)
}

label_obligations := [o |
	some r in label_rules
	o := object.union({"type": "label", "labels": r.labels}, object.filter(r, {"source"}))
]

# Exfiltration: private or secret data in scope, and an action that sends it outside the allow-list.
configured_egress_labels := {l | some s in scopes; some l in object.get(object.get(s, "egress", {}), "labels", [])}

egress_labels := configured_egress_labels if count(configured_egress_labels) > 0

default egress_labels := {"private", "secret"}

egress_tools := {t | some s in scopes; some t in object.get(object.get(s, "egress", {}), "tools", [])}

egress_apis := {a | some s in scopes; some a in object.get(object.get(s, "egress", {}), "apis", [])}

egress_allow := {a | some s in scopes; some a in object.get(object.get(s, "egress", {}), "allow", [])}

sends_out if {
	input.action.kind in tool_kinds
	some p in egress_tools
	matches(p, object.get(target, "tool", ""))
}

sends_out if {
	input.action.kind == "http.request"
	target.api in egress_apis
}

destination := target.api if input.action.kind == "http.request"

destination := d if {
	input.action.kind != "http.request"
	d := [v | some k in ["url", "to", "recipient", "destination"]; v := object.get(args, k, null); is_string(v)][0]
}

default destination := ""

destination_allowed if {
	some p in egress_allow
	matches(p, destination)
}

escalate contains msg if {
	sends_out
	not destination_allowed
	some l in session.labels
	l.label in egress_labels
	msg := sprintf("%s data from %s (read by %s, decision %s at ledger index %d) is in this session, and %s sends to %s, outside the allow-list%s", [l.label, l.source, from_name(l.from), l.from.id, l.from.index, action_name, destination_name, flow_detail(l.from.id)])
}

destination_name := sprintf("API %s", [destination]) if input.action.kind == "http.request"

destination_name := sprintf("%q", [destination]) if {
	input.action.kind != "http.request"
	destination != ""
}

default destination_name := "an unlisted destination"

from_name(a) := sprintf("%s %s %s", [a.target.method, a.target.api, a.target.path]) if a.kind == "http.request"

from_name(a) := sprintf("tool %s", [a.target.tool]) if {
	a.kind != "http.request"
	a.target.tool
}

default from_name(a) := a.kind

flow_detail(id) := sprintf(": %s carries %d characters of it", [f.path, f.chars]) if {
	f := [f | some f in session.flows; f.from.id == id][0]
}

default flow_detail(_) := ""

# Untrusted content driving a destructive call: its arguments carry text from an untrusted result.
destructive_action if {
	input.action.kind in tool_kinds
	some p in allowlist("destructive_tools")
	matches(p, object.get(target, "tool", ""))
}

destructive_action if {
	input.action.kind == "mcp.tool_call"
	mcp_destructive(object.get(object.get(input.action, "tool", {}), "annotations", {}))
}

destructive_action if {
	input.action.kind == "http.request"
	target.method == "DELETE"
}

escalate contains msg if {
	destructive_action
	some f in session.flows
	some l in f.labels
	l.label == "untrusted"
	msg := sprintf("%s is destructive and its %s carries %d characters of untrusted content from %s (%s, decision %s at ledger index %d)", [action_name, f.path, f.chars, l.source, from_name(f.from), f.from.id, f.from.index])
}

# Split orders: earlier orders of the session within a limit's window, plus this one, above the limit.
went_ahead(a) if {
	a.decision == "allow"
	not fell_through(a)
}

fell_through(a) if a.outcome in {"failed", "released"}

went_ahead(a) if a.outcome == "completed"

escalate contains msg if {
	some l in applicable_limits
	l.window
	amount := input.action.amount
	amount.value <= l.escalate_above
	since := input.time.unix_ms - (time.parse_duration_ns(l.window) / 1000000)
	earlier := [a.amount.value |
		some a in session.actions
		a.time_ms > since
		a.amount.currency == amount.currency
		went_ahead(a)
		limit_covers(l, a)
	]
	count(earlier) > 0
	total := sum(earlier) + amount.value
	total > l.escalate_above
	msg := sprintf("split orders: %s %v within %s on %s (%d earlier of this session and this one) is above the %v limit agent %s may commit on its own", [amount.currency, total, l.window, limit_name(l), count(earlier), l.escalate_above, input.agent.id])
}

# Loops: the same call (same action digest) already failed loop_max_failures times in this session
# (input.session.repeats: counted by the gatekeeper, so the rule does not walk the history).
configured_loop_max := {n | some s in scopes; n := s.loop_max_failures}

loop_max := min(configured_loop_max) if count(configured_loop_max) > 0

default loop_max := 3

deny contains msg if {
	session.repeats.failed >= loop_max
	last := session.repeats.last_failure
	msg := sprintf("the same %s already failed %d times in this session (last: decision %s at ledger index %d): it is not tried again", [action_name, session.repeats.failed, last.id, last.index])
}
