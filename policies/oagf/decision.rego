# OAGF standard library: the entrypoint. data.oagf.decision is the decision document the gatekeeper
# reads (spec/decision.schema.json). Rule modules add to three sets in this package:
#   deny      reasons the action is refused (any one refuses it)
#   escalate  reasons a human must approve it (only when nothing denies)
#   redact    fields to remove from the response (an obligation); mcp.rego adds its own obligations
# and approver_groups / approvals_required for escalations.
package oagf

default decision := {"outcome": "deny", "reasons": ["no OAGF rule produced a decision"], "obligations": []}

decision := {"outcome": "deny", "reasons": sort(deny), "obligations": []} if count(deny) > 0

decision := {
	"outcome": "escalate",
	"reasons": sort(escalate),
	"obligations": obligations,
	"approvers": approvers,
} if {
	count(deny) == 0
	count(escalate) > 0
}

decision := {"outcome": "allow", "reasons": [], "obligations": obligations} if {
	count(deny) == 0
	count(escalate) == 0
}

deny contains msg if {
	not input.action.kind in governed_kinds
	not input.action.kind in allowlist("kinds")
	msg := sprintf("action kind %s is not governed by this policy", [input.action.kind])
}

redact_obligations := [{"type": "redact", "fields": sort(redact)}] if count(redact) > 0

default redact_obligations := []

obligations := array.concat(array.concat(redact_obligations, mcp_obligations), label_obligations)

approvers := {"groups": sort(approver_groups), "users": [], "min": approvals_min} if count(approver_groups) > 0

# Escalations no limit names approvers for go to config.approvers (default group "approvers").
approvers := {
	"groups": object.get(object.get(cfg, "approvers", {}), "groups", ["approvers"]),
	"users": object.get(object.get(cfg, "approvers", {}), "users", []),
	"min": object.get(object.get(cfg, "approvers", {}), "min", 1),
} if count(approver_groups) == 0

approvals_min := max({n | some n in approvals_required} | {1})
