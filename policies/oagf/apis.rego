# OAGF standard library: business API calls through the gatekeeper's API proxy (http.request).
#   apis:
#     erp: ["GET /inventory*", "POST /orders"]   allowed "METHOD /path" patterns per configured API
#   raw_bodies:
#     docs: ["PUT /files/*"]                    routes that may carry a body the policy cannot read (not JSON)
#   redact:
#     - {api: crm, fields: ["customer.ssn"]}     fields removed from the API's JSON response
# A body the policy cannot read (input.action.content: type, size, digest) is refused unless its route allows it.
package oagf

deny contains msg if {
	input.action.kind == "http.request"
	not route_allowed
	msg := sprintf("%s %s on API %s is not allowed for agent %s", [target.method, target.path, target.api, input.agent.id])
}

deny contains msg if {
	input.action.kind == "http.request"
	input.action.content
	not raw_body_allowed
	msg := sprintf("%s %s on API %s carries a %s body the policy cannot read; list the route under raw_bodies to allow it", [target.method, target.path, target.api, input.action.content.type])
}

route_allowed if route_in(allowlist_routes)

raw_body_allowed if route_in({route | some s in scopes; some route in object.get(object.get(s, "raw_bodies", {}), target.api, [])})

route_in(routes) if {
	some route in routes
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
