# OAGF standard library: time windows, on the decision time the gatekeeper puts in input.time (UTC).
#   hours:
#     days: [Monday, Tuesday, Wednesday, Thursday, Friday]
#     from: 6          # first UTC hour allowed
#     to: 20           # first UTC hour no longer allowed
#     outside: deny    # or escalate
#     kinds: [http.request, llm.tool_call]   # optional: only these action kinds
package oagf

hour_windows contains w if {
	some s in scopes
	w := s.hours
}

outside_window(w) if not input.time.weekday in object.get(w, "days", [input.time.weekday])

outside_window(w) if input.time.hour < object.get(w, "from", 0)

outside_window(w) if input.time.hour >= object.get(w, "to", 24)

window_applies(w) if not w.kinds

window_applies(w) if input.action.kind in w.kinds

deny contains msg if {
	some w in hour_windows
	window_applies(w)
	outside_window(w)
	object.get(w, "outside", "deny") == "deny"
	msg := window_message(w)
}

escalate contains msg if {
	some w in hour_windows
	window_applies(w)
	outside_window(w)
	w.outside == "escalate"
	msg := window_message(w)
}

window_message(w) := sprintf("%s (%s) is outside the allowed hours: %v to %v UTC on %v", [input.time.now, input.time.weekday, object.get(w, "from", 0), object.get(w, "to", 24), concat(", ", object.get(w, "days", ["any day"]))])
