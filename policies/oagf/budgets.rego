# OAGF standard library: budget-aware rules on input.budgets (filled by the gatekeeper's budgets plug-in).
#   budget_escalate_below: 0.1   # escalate when this action would leave less than 10% of a cap
# The plug-in's escrow enforces caps race-free regardless; these rules let the policy refuse early with a clear
# reason and put a human in front of the last part of a budget.
package oagf

# Rate limits (meters requests and llm_tokens) are left to the gatekeeper, which answers 429 with Retry-After.
budget_views := [b | some b in object.get(object.get(input, "budgets", {}), "limits", []); not b.meter in {"requests", "llm_tokens"}]

deny contains msg if {
	some b in budget_views
	b.requested != null
	b.requested > b.remaining
	msg := sprintf("%s budget %s would be exceeded: %v %s requested, %v remaining of %v", [b.window, b.budget, b.requested, b.currency, b.remaining, b.cap])
}

escalate contains msg if {
	some s in scopes
	ratio := s.budget_escalate_below
	some b in budget_views
	b.requested != null
	b.requested <= b.remaining
	b.remaining - b.requested < b.cap * ratio
	msg := sprintf("%s budget %s would fall below %v%% of its cap", [b.window, b.budget, ratio * 100])
}
