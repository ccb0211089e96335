/** Language-core builtins: comparison and arithmetic operators, set operators, membership, trace. */
import { moduleJSON } from '../astjson.js';
import { RegoError } from '../errors.js';
import * as num from '../num.js';
import { parseModule } from '../parser.js';
import { compare, equal, isNum, isSet, makeSet, RObject, RSet, type Value } from '../value.js';
import { BuiltinError, OperandTypeError, type BuiltinDef, type BuiltinTable } from './registry.js';

function def(name: string, args: string[], result: string, fn: BuiltinDef['fn'], extra: Partial<BuiltinDef> = {}): [string, BuiltinDef] {
  return [name, { name, args, result, fn, ...extra }];
}

/** An operator of two operands of any type that never fails (see BuiltinDef.binary). */
const binary = (name: string, f: (a: Value, b: Value) => boolean) => def(name, ['any', 'any'], 'boolean', ([a, b]) => f(a, b), { binary: f });

const cmp = (name: string, test: (c: number) => boolean) => binary(name, (a, b) => test(compare(a, b)));

function arith(name: string, op: (a: num.Num, b: num.Num) => num.Num): [string, BuiltinDef] {
  return def(name, ['number', 'number'], 'number', ([a, b]) => op(a as num.Num, b as num.Num));
}

function setOp(a: Value, b: Value, name: string, f: (x: RSet, y: RSet) => RSet): Value {
  if (!isSet(a)) throw new OperandTypeError(`operand 1 must be set but got ${typeOf(a)}`);
  if (!isSet(b)) throw new OperandTypeError(`operand 2 must be set but got ${typeOf(b)}`);
  void name;
  return f(a, b);
}

function typeOf(v: Value): string {
  return Array.isArray(v) ? 'array' : v instanceof RObject ? 'object' : v instanceof RSet ? 'set' : v === null ? 'null' : isNum(v) ? 'number' : typeof v;
}

function member(x: Value, coll: Value): boolean {
  if (Array.isArray(coll)) return coll.some((v) => equal(v, x));
  if (coll instanceof RSet) return coll.has(x);
  if (coll instanceof RObject) return coll.entries().some(([, v]) => equal(v, x));
  return false;
}

function member3(k: Value, x: Value, coll: Value): boolean {
  if (Array.isArray(coll)) {
    if (!isNum(k)) return false;
    const i = num.toSafeInt(k);
    return i !== undefined && i >= 0 && i < coll.length && equal(coll[i], x);
  }
  if (coll instanceof RObject) {
    const v = coll.get(k);
    return v !== undefined && equal(v, x);
  }
  if (coll instanceof RSet) return equal(k, x) && coll.has(x);
  return false;
}

export const builtins: BuiltinTable = Object.fromEntries([
  binary('equal', equal),
  binary('neq', (a, b) => !equal(a, b)),
  cmp('lt', (c) => c < 0),
  cmp('lte', (c) => c <= 0),
  cmp('gt', (c) => c > 0),
  cmp('gte', (c) => c >= 0),
  arith('plus', num.add),
  arith('mul', num.mul),
  def('minus', ['number|set', 'number|set'], 'number|set', ([a, b]) => {
    if (isNum(a) && isNum(b)) return num.sub(a, b);
    if (isSet(a) && isSet(b)) return makeSet(a.values().filter((v) => !b.has(v)));
    if (isNum(a) || isSet(a)) throw new OperandTypeError(`operand 2 must be ${isNum(a) ? 'number' : 'set'} but got ${typeOf(b)}`);
    throw new OperandTypeError(`operand 1 must be one of {number, set} but got ${typeOf(a)}`);
  }),
  def('div', ['number', 'number'], 'number', ([a, b]) => {
    if (num.isZero(b as num.Num)) throw new BuiltinError('divide by zero');
    return num.div(a as num.Num, b as num.Num);
  }),
  def('rem', ['number', 'number'], 'number', ([a, b]) => {
    if (!num.isInteger(a as num.Num) || !num.isInteger(b as num.Num)) throw new BuiltinError('modulo on floating-point number');
    if (num.isZero(b as num.Num)) throw new BuiltinError('modulo by zero');
    return num.rem(a as num.Num, b as num.Num);
  }),
  def('and', ['set', 'set'], 'set', ([a, b]) => setOp(a, b, 'and', (x, y) => makeSet(x.values().filter((v) => y.has(v))))),
  def('or', ['set', 'set'], 'set', ([a, b]) => setOp(a, b, 'or', (x, y) => makeSet([...x.values(), ...y.values()]))),
  binary('internal.member_2', member),
  def('internal.member_3', ['any', 'any', 'any'], 'boolean', ([k, x, c]) => member3(k, x, c)),
  def('print', [], 'boolean', () => true, { variadic: 'any' }),
  def('trace', ['string'], 'boolean', () => true),
  def('rego.parse_module', ['string', 'string'], 'object', ([file, src]) => {
    try {
      return moduleJSON(parseModule(src as string, file as string, 'v1'));
    } catch (e) {
      if (e instanceof RegoError) throw new BuiltinError(e.message);
      throw e;
    }
  }),
  def('rego.metadata.rule', [], 'any', () => undefined),
  def('rego.metadata.chain', [], 'array', () => undefined),
]);
