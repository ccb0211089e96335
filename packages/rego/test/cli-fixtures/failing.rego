package fixture

import rego.v1

double(x) := x * 2

test_double_passes if double(2) == 4

test_double_fails if double(2) == 5
