/**
 * Regression tests for constructs met in real-world v0 policy libraries (admission-control templates,
 * IaC scanners) and OPA's v0-syntax evaluation cases. The policies here are our own small re-creations
 * of each construct, not copies of those libraries.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { runTests } from '../src/tester.js';
import { compile, registerBuiltin, RObject } from '../src/index.js';

function evalV0(src: string | Record<string, string>, query: string, input?: unknown): unknown {
  const modules = typeof src === 'string' ? { 'policy.rego': src } : src;
  const rs = compile({ regoVersion: 'v0', modules }).prepare(query).eval({ input }).results;
  return rs.length ? rs[0].expressions[0].value : undefined;
}

function errorOf(src: string, query: string): string {
  try {
    evalV0(src, query);
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('expected an error');
}

test('import future.keywords.every alone also makes `in` a keyword (every … in, some … in)', () => {
  const src = `package quota
import future.keywords.every

approved_vendors := {"acme", "globex"}

all_known {
  every line in input.lines {
    some v in approved_vendors
    line.vendor == v
  }
}

any_large {
  some line in input.lines
  line.amount > 1000
}
`;
  const lines = [{ vendor: 'acme', amount: 10 }, { vendor: 'globex', amount: 5000 }];
  assert.equal(evalV0(src, 'data.quota.all_known', { lines }), true);
  assert.equal(evalV0(src, 'data.quota.any_large', { lines }), true);
  assert.equal(evalV0(src, 'data.quota.all_known', { lines: [...lines, { vendor: 'initech', amount: 1 }] }), undefined);
});

test('a function used as a `with` mock runs without the mocks of the calling scope', () => {
  // outer: upper is mocked by loud; inner: lower is mocked by quiet, which calls upper.
  // quiet must reach the real upper, not loud (loud would fail the test by returning "LOUD").
  const src = `package mocks
loud(_) = "LOUD"
quiet(s) = upper(s)
shout(s) = lower(s)
check { result == "ABC" with lower as quiet }
result = shout("abc")
p { check with upper as loud }
`;
  assert.equal(evalV0(src, 'data.mocks.p'), true);
});

test('a mock function calling the builtin it replaces reaches the original', () => {
  const src = `package mocks
capped(xs) = n { n := min([count(xs), 2]) }
p = n { n := count([1, 2, 3]) with count as capped }
`;
  assert.equal(evalV0(src, 'data.mocks.p'), 2);
});

test('after a mocked call returns, the rest of the body sees the caller\'s mocks again', () => {
  const src = `package mocks
fake_now() = 7
double(x) = x * 2
half(x) = x / 2
q = [a, b] { a := double(10); b := time.now_ns() }
p = r { r := q with double as half with time.now_ns as fake_now }
`;
  assert.deepEqual(evalV0(src, 'data.mocks.p'), [5, 7]);
});

test('a zero-argument function is part of its package document', () => {
  const src = `package consts
limit() = 1000
over { input.amount > limit() }
`;
  assert.deepEqual(evalV0(src, 'data.consts', { amount: 5 }), { limit: 1000 });
  assert.equal(evalV0(src, 'data.consts.limit'), 1000);
  assert.equal(evalV0(src, 'data.consts.over', { amount: 5000 }), true);
});

test('conflict errors name the rule or function (new OPA wording) and keep the older wording', () => {
  const rule = errorOf(`package c
tier = "gold" { true }
tier = "silver" { true }
`, 'data.c.tier');
  assert.match(rule, /eval_conflict_error/);
  assert.match(rule, /rule data\.c\.tier produced conflicting values/);
  assert.match(rule, /complete rules must not produce multiple outputs/);
  const fn = errorOf(`package c
band(_) = "low"
band(_) = "high"
p = band(1)
`, 'data.c.p');
  assert.match(fn, /function data\.c\.band produced conflicting values for the same inputs/);
  assert.match(fn, /functions must not produce multiple outputs for same inputs/);
});

test('v0 idioms from admission-control libraries keep working', () => {
  const lib = `package lib.exemptions
is_exempt(c) { prefix := input.parameters.exempt[_]; startswith(c.image, prefix) }
`;
  const policy = `package limits
import data.lib.exemptions.is_exempt

# several bodies for one rule head, functions included
kind_of(obj) = k { obj.kind == "Pod"; k := "pod" } { obj.kind == "Job"; k := "job" }

violation[{"msg": msg}] {
  c := input.review.object.spec.containers[_]
  not is_exempt(c)
  not c.resources.limits.cpu
  msg := sprintf("%v <%v> has no cpu limit", [kind_of(input.review.object), c.name])
} {
  input.review.object.spec.hostNetwork
  msg := "host network"
}
`;
  const tests = `package limits
test_missing_limit {
  input := {"review": {"object": {"kind": "Job", "spec": {"containers": [{"name": "a", "image": "x/a"}]}}}, "parameters": {"exempt": []}}
  violation == {{"msg": "job <a> has no cpu limit"}} with input as input
}
test_exempt_and_host_network {
  input := {"review": {"object": {"kind": "Pod", "spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "x/a"}]}}}, "parameters": {"exempt": ["x/"]}}
  violation == {{"msg": "host network"}} with input as input
}
# the same test name twice (once per container kind) is one test, as in opa test
test_missing_limit {
  true
}
`;
  const rs = runTests({ regoVersion: 'v0', modules: { 'lib.rego': lib, 'src.rego': policy, 'src_test.rego': tests } });
  // the second test_missing_limit is a test of its own (OPA names it test_missing_limit#01)
  assert.deepEqual(rs.map((r) => [r.name, r.passed]), [['data.limits.test_missing_limit', true], ['data.limits.test_exempt_and_host_network', true], ['data.limits.test_missing_limit#01', true]]);
});

test('an import alias shadows a builtin namespace of the same name', () => {
  const src = {
    'lib.rego': `package lib.result
new(msg, cause) = {"msg": msg, "cause": cause}
`,
    'check.rego': `package check
import data.lib.result
deny[res] { input.user == "root"; res := result.new("runs as root", input) }
`,
  };
  assert.deepEqual(evalV0(src, 'data.check.deny', { user: 'root' }), [{ msg: 'runs as root', cause: { user: 'root' } }]);
});

test('v0 modules may import the same name twice (the later import wins); v1 modules may not', () => {
  const modules = {
    'a.rego': 'package team.a\nlimit = 1\n',
    'b.rego': 'package team.b\nlimit = 2\n',
    'p.rego': 'package p\nimport data.team.a\nimport data.team.b as a\nq = a.limit\n',
  };
  assert.equal(evalV0(modules, 'data.p.q'), 2);
  const v1 = { ...modules, 'p.rego': 'package p\nimport data.team.a\nimport data.team.b as a\nq := a.limit\n', 'a.rego': 'package team.a\nlimit := 1\n', 'b.rego': 'package team.b\nlimit := 2\n' };
  assert.throws(() => compile({ modules: v1 }), /rego_compile_error: import must not shadow import data.team.a/);
});

test('a var that only a negated expression mentions is unsafe, `_` included (as in OPA)', () => {
  const base = 'package neg\nblocked[u] { u := input.blocked[_] }\n';
  assert.throws(() => compile({ regoVersion: 'v0', modules: { 'n.rego': `${base}p { not blocked[who] }\n` } }), /rego_unsafe_var_error: var who is unsafe/);
  assert.throws(() => compile({ regoVersion: 'v0', modules: { 'n.rego': `${base}p { not blocked[_] }\n` } }), /rego_unsafe_var_error: var _ is unsafe/);
  // bound by another expression first: safe, whatever the order in the source
  assert.equal(evalV0(`${base}p { not blocked[who]; who := input.user }\n`, 'data.neg.p', { blocked: ['eve'], user: 'bob' }), true);
});

test('v1 modules (and v0 ones importing rego.v1) reject deprecated builtins and shadowing of input/data; plain v0 keeps them', () => {
  const v0 = 'package legacy\np { any([false, true]); re_match("^a", "abc") }\nq { input := {"x": 1}; input.x == 1 }\n';
  assert.equal(evalV0(v0, 'data.legacy.p'), true);
  assert.equal(evalV0(v0, 'data.legacy.q'), true);
  const fail = (src: string, re: RegExp) => assert.throws(() => compile({ modules: { 'm.rego': src } }), re);
  fail('package m\np := any([true])', /rego_type_error: deprecated built-in function calls in expression: any/);
  fail('package m\np := cast_set([1])', /deprecated built-in function calls in expression: cast_set/);
  fail('package m\np if { input := 1; input == 1 }', /rego_compile_error: variables must not shadow input \(use a different variable name\)/);
  fail('package m\ndata := 1', /rego_compile_error: rules must not shadow data \(use a different rule name\)/);
  assert.throws(() => compile({ regoVersion: 'v0', modules: { 'm.rego': 'package m\nimport rego.v1\np := all([true])' } }), /deprecated built-in/);
  // a user function that happens to be named like a deprecated builtin is fine
  const own = compile({ modules: { 'm.rego': 'package m\nany(xs) if { some x in xs; x }\np if any([false, true])' } });
  assert.equal(own.prepare('data.m.p').eval().results[0].expressions[0].value, true);
});

test('a host can register builtins other hosts ship (e.g. an IaC scanner\'s result.new) and v0 policies call them', () => {
  registerBuiltin({
    name: 'result.new',
    args: ['string', 'any'],
    result: 'object',
    fn: ([msg, cause]) => { const o = new RObject(); o.set('msg', msg); o.set('cause', cause); return o; },
  });
  assert.throws(() => registerBuiltin({ name: 'count', args: ['any'], result: 'number', fn: () => 0 }), /already a builtin/);
  assert.throws(() => registerBuiltin({ name: 'bad name', args: [], result: 'any', fn: () => 0 }), /invalid name/);
  const src = `package scanner.ds
import future.keywords.in
deny[res] {
  some cmd in input.commands
  cmd.user == "root"
  res := result.new(sprintf("line %d runs as root", [cmd.line]), cmd)
}
`;
  assert.deepEqual(evalV0(src, 'data.scanner.ds.deny', { commands: [{ user: 'root', line: 3 }, { user: 'app', line: 4 }] }),
    [{ msg: 'line 3 runs as root', cause: { user: 'root', line: 3 } }]);
  // operand types are checked like any builtin's: a constant of the wrong type is a compile-time type error
  assert.throws(() => evalV0('package x\np = r { r := result.new(1, {}) }', 'data.x.p'), /rego_type_error: result.new: invalid argument/);
});
