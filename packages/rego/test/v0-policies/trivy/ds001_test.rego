package builtin.dockerfile.DS001

test_latest_denied {
  r := deny with input as {"Stages": [{"Name": "openjdk:latest", "Commands": [{"Cmd": "from", "Value": ["openjdk:latest"], "StartLine": 1}]}]}
  count(r) == 1
  r[_].msg == "Specify a tag in the 'FROM' statement for image 'openjdk'"
}

test_untagged_denied {
  r := deny with input as {"Stages": [{"Name": "openjdk", "Commands": [{"Cmd": "from", "Value": ["openjdk"], "StartLine": 3}]}]}
  count(r) == 1
  r[_].startline == 3
}

test_tagged_allowed {
  r := deny with input as {"Stages": [{"Name": "openjdk:8u292", "Commands": [{"Cmd": "from", "Value": ["openjdk:8u292"], "StartLine": 1}]}]}
  count(r) == 0
}

test_scratch_allowed {
  r := deny with input as {"Stages": [{"Name": "scratch", "Commands": [{"Cmd": "from", "Value": ["scratch"], "StartLine": 1}]}]}
  count(r) == 0
}
