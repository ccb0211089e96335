# OAGF standard library: limits on an action's amount (input.action.amount, located by gatekeeper.yaml `amounts:`).
#   limits:
#     - tool: place_order        # or api: erp (+ optional method, path patterns); neither = every action with an amount
#       currency: USD
#       escalate_above: 1000000  # a human approves anything above
#       deny_above: 5000000      # hard ceiling: refused outright
#       approvers: {groups: [procurement-leads], min: 1}
#       window: 1h               # with sessions: orders within this window are summed (split orders; sessions.rego)
# Fail closed: money moves only under a limit. An action with an amount that no limit of the agent covers is refused,
# so is one whose amount the gatekeeper could not read where `amounts:` says it lives (action.amount_expected), and
# one a limit applies to whose amount is unknown or in another currency.
package oagf

applicable_limits contains l if {
	some l in all_entries("limits")
	limit_covers(l, input.action)
}

# Whether limit l covers action a (this one, or an earlier one of the session: sessions.rego).
limit_covers(l, a) if {
	object.get(l, "tool", null) == null
	object.get(l, "api", null) == null
	a.amount
}

limit_covers(l, a) if {
	a.kind in tool_kinds
	matches(l.tool, object.get(a.target, "tool", ""))
}

limit_covers(l, a) if {
	a.kind == "http.request"
	l.api == a.target.api
	matches(upper(object.get(l, "method", "*")), a.target.method)
	matches(object.get(l, "path", "*"), a.target.path)
}

deny contains msg if {
	some l in applicable_limits
	not input.action.amount
	msg := sprintf("the amount of this action could not be determined, but a limit applies to it (%s)", [limit_name(l)])
}

deny contains msg if {
	input.action.amount_expected
	not input.action.amount
	msg := sprintf("the amount of this %s could not be read where the configuration says it is: an action that moves money must state it", [action_name])
}

deny contains msg if {
	input.action.amount
	count(applicable_limits) == 0
	msg := sprintf("no spending limit covers agent %s for %s: an action that moves money needs one (config limits)", [input.agent.id, action_name])
}

action_name := sprintf("%s %s on API %s", [target.method, target.path, target.api]) if input.action.kind == "http.request"

action_name := sprintf("tool %s", [target.tool]) if {
	input.action.kind != "http.request"
	target.tool
}

default action_name := sprintf("%s action", [input.action.kind])

deny contains msg if {
	some l in applicable_limits
	amount := input.action.amount
	amount.currency != object.get(l, "currency", amount.currency)
	msg := sprintf("amount is in %s but the limit for %s is in %s", [amount.currency, limit_name(l), l.currency])
}

deny contains msg if {
	some l in applicable_limits
	amount := input.action.amount
	amount.value > l.deny_above
	msg := sprintf("%s %v exceeds the hard ceiling of %v for agent %s on %s", [amount.currency, amount.value, l.deny_above, input.agent.id, limit_name(l)])
}

escalate contains msg if {
	some l in applicable_limits
	amount := input.action.amount
	amount.value > l.escalate_above
	msg := sprintf("%s %v is above the %v limit agent %s may commit on its own for %s", [amount.currency, amount.value, l.escalate_above, input.agent.id, limit_name(l)])
}

approver_groups contains g if {
	some l in applicable_limits
	input.action.amount.value > l.escalate_above
	some g in l.approvers.groups
}

approvals_required contains n if {
	some l in applicable_limits
	input.action.amount.value > l.escalate_above
	n := l.approvers.min
}

limit_name(l) := l.tool if l.tool

limit_name(l) := sprintf("API %s", [l.api]) if {
	not l.tool
	l.api
}

default limit_name(_) := "any action"
