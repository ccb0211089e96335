import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { compile, RegoError } from '../src/index.js';

const authz = `package authz
import rego.v1

default allow := false

# allow when the user has a role granting the action
allow if {
  some role in data.user_roles[input.user]
  some grant in data.role_grants[role]
  input.action == grant.action
  input.type == grant.type
}
`;
const data = {
  user_roles: { alice: ['admin'], bob: ['reader'] },
  role_grants: { admin: [{ action: 'write', type: 'order' }, { action: 'read', type: 'order' }], reader: [{ action: 'read', type: 'order' }] },
};

test('allow/deny with input and data, explain lists the deciding rule', () => {
  const q = compile({ modules: { 'authz.rego': authz }, data }).prepare('data.authz.allow');
  assert.equal(q.eval({ input: { user: 'alice', action: 'write', type: 'order' } }).results[0].expressions[0].value, true);
  assert.equal(q.eval({ input: { user: 'bob', action: 'write', type: 'order' } }).results[0].expressions[0].value, false);
  const r = q.eval({ input: { user: 'bob', action: 'read', type: 'order' }, explain: true });
  assert.deepEqual(r.explanation, [{ rule: 'data.authz.allow', location: 'authz.rego:7' }]);
});

test('compile errors carry codes and file:line', () => {
  const cases: [string, string][] = [
    ['package a\np if {', 'rego_parse_error'],
    ['package a\np if { x > 1 }', 'rego_unsafe_var_error'],
    ['package a\np if { nosuch(1) }', 'rego_type_error'],
    ['package a\np if { q }\nq if { p }', 'rego_recursion_error'],
    ['package a\np := 1\np contains 2', 'rego_type_error'],
    ['package a\np if { count(1, 2, 3) }', 'rego_type_error'],
    ['package a\np if { count(1) > 0 }', 'rego_type_error'],
    ['package a\np if { x := 1\nx := 2 }', 'rego_compile_error'],
  ];
  for (const [src, code] of cases) {
    try {
      compile({ modules: { 'a.rego': src } });
      assert.fail(`expected ${code} for ${src}`);
    } catch (e) {
      assert.ok(e instanceof RegoError, String(e));
      assert.equal(e.code, code, e.message);
      assert.equal(e.errors[0].location?.file, 'a.rego');
      assert.match(e.message, /^a\.rego:\d+: /);
    }
  }
});

test('evaluation errors: conflicts and strict builtin errors', () => {
  const p = compile({ modules: { 'a.rego': 'package a\np := 1 if input.x\np := 2 if input.x' } });
  assert.throws(() => p.prepare('data.a.p').eval({ input: { x: true } }), (e: RegoError) => e.code === 'eval_conflict_error');
  const s = compile({ modules: { 'a.rego': 'package a\np := 1 / input.x' }, strictBuiltinErrors: true });
  assert.throws(() => s.prepare('data.a.p').eval({ input: { x: 0 } }), (e: RegoError) => e.code === 'eval_builtin_error' && /divide by zero/.test(e.message));
  const lax = compile({ modules: { 'a.rego': 'package a\np := 1 / input.x' } });
  assert.deepEqual(lax.prepare('data.a.p').eval({ input: { x: 0 } }).results, []);
});

test('evaluation budget aborts runaway policies with a clear error', () => {
  const p = compile({ modules: { 'a.rego': 'package a\np := count([1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000)])' } });
  assert.throws(() => p.prepare('data.a.p').eval({ budget: { maxSteps: 10_000 } }), (e: RegoError) => e.code === 'eval_cancel_error' && /budget/.test(e.message));
  assert.throws(() => p.prepare('data.a.p').eval({ budget: { timeoutMs: 50 } }), (e: RegoError) => e.code === 'eval_cancel_error');
});

test('deeply nested input does not crash the process', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 200_000; i++) deep = [deep];
  const p = compile({ modules: { 'a.rego': 'package a\np if input[0][0][0]' } });
  assert.throws(() => p.prepare('data.a.p').eval({ input: deep }), RegoError);
  let deepObj: unknown = {};
  for (let i = 0; i < 3000; i++) deepObj = { a: deepObj };
  assert.equal(p.prepare('data.a.p').eval({ input: deepObj }).results.length, 0);
});

test('exact numbers beyond 2^53', () => {
  const p = compile({ modules: { 'a.rego': 'package a\nx := 9007199254740993 + 2\ny := 12345678901234567890 * 10\nz := 0.1 + 0.2' } });
  const v = p.prepare('data.a').eval().results[0].expressions[0].value as Record<string, unknown>;
  assert.equal(v.x, 9007199254740995n);
  assert.equal(v.y, 123456789012345678900n);
  assert.equal(v.z, 0.30000000000000004);
});

test('query results: bindings, multiple rows, false values', () => {
  const p = compile({ modules: {} });
  const r = p.prepare('x := [1, 2, 3][i]; x > 1').eval();
  assert.deepEqual(r.results.map((x) => x.bindings), [{ x: 2, i: 1 }, { x: 3, i: 2 }]);
  assert.equal(p.prepare('1 > 2').eval().results[0].expressions[0].value, false);
});

test('with, functions, every, comprehensions, string interpolation, metadata', () => {
  const p = compile({ modules: { 'a.rego': `package a
# METADATA
# title: Double
f(x) := y if y := x * 2
g := [f(i) | some i in [1, 2]]
all_small if every x in input.xs { x < 10 }
greet := $"hello {input.name}!"
mocked := y if { y := f(1) with f as h }
h(_) := 42
meta := rego.metadata.rule()
# METADATA
# title: Meta
meta2 := rego.metadata.rule()
` } });
  const v = p.prepare('data.a').eval({ input: { xs: [1, 2], name: 'bob' } }).results[0].expressions[0].value as Record<string, unknown>;
  assert.deepEqual(v.g, [2, 4]);
  assert.equal(v.all_small, true);
  assert.equal(v.greet, 'hello bob!');
  assert.equal(v.mocked, 42);
  assert.deepEqual(v.meta, {});
  assert.deepEqual(v.meta2, { title: 'Meta', scope: 'rule' });
});

test('rule indexing: evaluation cost does not grow with unrelated rules', () => {
  const rules = ['package big', 'default allow := false'];
  for (let i = 0; i < 1000; i++) rules.push(`allow if {\n  input.kind == "k${i}"\n  input.n > ${i}\n}`);
  rules.push('allow if input.admin == true');
  const q = compile({ modules: { 'big.rego': rules.join('\n') } }).prepare('data.big.allow');
  const budget = { maxSteps: 200 };
  const value = (input: unknown) => q.eval({ input, budget }).results[0].expressions[0].value;
  assert.equal(value({ kind: 'k500', n: 501 }), true);
  assert.equal(value({ kind: 'k500', n: 500 }), false);
  assert.equal(value({ kind: 'nope', n: 1e9 }), false);
  assert.equal(value({ kind: 'nope', admin: true }), true);
  assert.equal(value({}), false);
});

test('rule indexing: glob.match patterns are bucketed by their first segment', () => {
  const rules = ['package routes', 'import rego.v1'];
  for (let i = 0; i < 500; i++) rules.push(`allow if {\n  glob.match("svc${i}.orders.*", [], input.path)\n  input.method == "GET"\n}`);
  rules.push('allow if glob.match("*.health", [], input.path)');
  rules.push('allow if input.admin');
  const q = compile({ modules: { 'r.rego': rules.join('\n') } }).prepare('data.routes.allow');
  const budget = { maxSteps: 200 };
  const allowed = (input: unknown) => q.eval({ input, budget }).results.length > 0;
  assert.equal(allowed({ path: 'svc250.orders.list', method: 'GET' }), true);
  assert.equal(allowed({ path: 'svc250.orders.list', method: 'POST' }), false);
  assert.equal(allowed({ path: 'svc250.invoices.list', method: 'GET' }), false);
  assert.equal(allowed({ path: 'svc9.health', method: 'POST' }), true);
  assert.equal(allowed({ path: 42, admin: true }), true);
  assert.equal(allowed({ path: 'nope', method: 'GET' }), false);
});

test('rules that read no input are shared between queries, and only those', () => {
  const src = `package s
import rego.v1

limits := {name: l | some name, l in data.cfg.limits}

via_function := f(1)

f(x) := x if input.flag

printed if print("printed")

over if input.n > limits.a

over_mocked if {
  input.n > limits.a with data.cfg.limits as {"a": 100}
}
`;
  const printed: string[] = [];
  const policy = compile({ modules: { 's.rego': src }, data: { cfg: { limits: { a: 5 } } }, print: (m) => printed.push(m) });
  const ask = (q: string, input: unknown) => policy.prepare(q).eval({ input }).results[0]?.expressions[0].value;
  assert.equal(ask('data.s.over', { n: 7 }), true);
  assert.equal(ask('data.s.over', { n: 3 }), undefined);
  assert.deepEqual(ask('data.s.limits', {}), { a: 5 });
  // a `with` on data is not answered from the shared value
  assert.equal(ask('data.s.over_mocked', { n: 7 }), undefined);
  assert.deepEqual(policy.prepare('x := data.s.limits with data.cfg.limits as {"b": 1}').eval({ input: {} }).results[0].bindings.x, { b: 1 });
  assert.deepEqual(ask('data.s.limits', {}), { a: 5 });
  // reading input through a function makes a rule input-dependent
  assert.equal(ask('data.s.via_function', { flag: true }), 1);
  assert.equal(ask('data.s.via_function', { flag: false }), undefined);
  // print is a side effect of every query
  ask('data.s.printed', {});
  ask('data.s.printed', {});
  assert.deepEqual(printed, ['printed', 'printed']);
});

test('functions whose rules all have one constant value stop at the first rule that succeeds (OPA early exit)', () => {
  const src = `package ee
m(x) if x == 1
m(x) if print("m2")
k(x) := x if x == 1
k(_) := 1 if print("k2")
`;
  const printed: string[] = [];
  const policy = compile({ modules: { 'ee.rego': src }, print: (m) => printed.push(m) });
  const ask = (q: string) => policy.prepare(q).eval({}).results[0]?.bindings.x;
  assert.equal(ask('x := data.ee.m(1)'), true);
  assert.deepEqual(printed, []);
  // the rule that fails first does not stop the search
  assert.equal(ask('x := data.ee.m(2)'), true);
  assert.deepEqual(printed, ['m2']);
  // a value that is not constant: every rule is evaluated (a conflict must be found)
  assert.equal(ask('x := data.ee.k(1)'), 1);
  assert.deepEqual(printed, ['m2', 'k2']);
});
