# OAGF standard library: business API calls through the gatekeeper's API proxy (http.request).
#   apis:
#     erp: ["GET /inventory*", "POST /orders"]   allowed "METHOD /path" patterns per configured API
#   redact:
#     - {api: crm, fields: ["customer.ssn"]}     fields removed from the API's JSON response
package oagf

deny contains msg if {
	input.action.kind == "http.request"
	not route_allowed
	msg := sprintf("%s %s on API %s is not allowed for agent %s", [target.method, target.path, target.api, input.agent.id])
}

route_allowed if {
	some route in allowlist_routes
	parts := split(route, " ")
	count(parts) == 2
	matches(upper(parts[0]), target.method)
	matches(parts[1], target.path)
}

allowlist_routes contains route if {
	some s in scopes
	some route in object.get(object.get(s, "apis", {}), target.api, [])
}

redact contains field if {
	input.action.kind == "http.request"
	some rule in all_entries("redact")
	rule.api == target.api
	some field in rule.fields
}
