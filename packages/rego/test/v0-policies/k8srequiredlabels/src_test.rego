package k8srequiredlabels

import future.keywords.in

test_input_no_required_labels {
  input := {"review": review({"some": "label"}), "parameters": {"labels": []}}
  results := violation with input as input
  count(results) == 0
}

test_input_has_label {
  input := {"review": review({"some": "label"}), "parameters": {"labels": [lbl("some", "label")]}}
  results := violation with input as input
  count(results) == 0
}

test_input_missing_label {
  input := {"review": review({"some_other": "label"}), "parameters": {"labels": [lbl("some", "label")]}}
  results := violation with input as input
  count(results) == 1
  some r in results
  r.details.missing_labels == {"some"}
}

test_input_regex_mismatch {
  input := {"review": review({"some": "label2"}), "parameters": {"labels": [lbl("some", "^label$")]}}
  results := violation with input as input
  count(results) == 1
}

test_custom_message {
  input := {"review": review({}), "parameters": {"message": "WRONG", "labels": [lbl("some", "x")]}}
  results := violation with input as input
  results[_].msg == "WRONG"
}

review(labels) = output {
  output = {"object": {"metadata": {"name": "nginx", "labels": labels}}}
}

lbl(k, v) = out {
  out = {"key": k, "allowedRegex": v}
}
