/**
 * Operand access for builtin families, with OPA's exact operand error texts
 * (topdown/builtins: NewOperandTypeErr, NewOperandElementErr, IntOperand, ...).
 * The evaluator prefixes "<builtin name>: " to every message.
 */
import { isInteger, toBigInt, toSafeInt, type Num } from '../num.js';
import { isArray, isNum, isObject, isSet, typeName, type RObject, type RSet, type Value } from '../value.js';
import { OperandTypeError } from './registry.js';

export function operandErr(pos: number, msg: string): OperandTypeError {
  return new OperandTypeError(`operand ${pos} ${msg}`);
}

export function typeErr(pos: number, got: Value, ...expected: string[]): OperandTypeError {
  const want = expected.length === 1 ? expected[0] : `one of {${expected.join(', ')}}`;
  return operandErr(pos, `must be ${want} but got ${typeName(got)}`);
}

export function elementErr(pos: number, composite: Value, got: Value, ...expected: string[]): OperandTypeError {
  const tpe = typeName(composite);
  if (expected.length === 1) {
    return operandErr(pos, `must be ${tpe} of ${expected[0]}s but got ${tpe} containing ${typeName(got)}`);
  }
  return operandErr(pos, `must be ${tpe} of (any of) {${expected.join(', ')}} but got ${tpe} containing ${typeName(got)}`);
}

export function str(v: Value, pos: number): string {
  if (typeof v !== 'string') throw typeErr(pos, v, 'string');
  return v;
}

export function num(v: Value, pos: number): Num {
  if (!isNum(v)) throw typeErr(pos, v, 'number');
  return v;
}

/** A JS-safe integer operand (Go's IntOperand). */
export function int(v: Value, pos: number): number {
  const n = num(v, pos);
  if (!isInteger(n)) throw operandErr(pos, 'must be integer number but got floating-point number');
  const i = toSafeInt(n);
  if (i === undefined) throw operandErr(pos, 'must be integer number but got floating-point number');
  return i;
}

/** An integer operand of any size (Go's BigIntOperand). */
export function bigInt(v: Value, pos: number): bigint {
  if (!isNum(v)) throw typeErr(pos, v, 'integer');
  if (!isInteger(v)) throw operandErr(pos, 'must be integer number but got floating-point number');
  return toBigInt(v);
}

export function obj(v: Value, pos: number): RObject {
  if (!isObject(v)) throw typeErr(pos, v, 'object');
  return v;
}

export function arr(v: Value, pos: number): Value[] {
  if (!isArray(v)) throw typeErr(pos, v, 'array');
  return v;
}

export function set(v: Value, pos: number): RSet {
  if (!isSet(v)) throw typeErr(pos, v, 'set');
  return v;
}

/** Strings of an array or set operand (Go's StringSliceOperand). */
export function strings(v: Value, pos: number): string[] {
  let items: Value[];
  if (isArray(v)) items = v;
  else if (isSet(v)) items = v.values();
  else throw typeErr(pos, v, 'array', 'set');
  for (const x of items) if (typeof x !== 'string') throw elementErr(pos, v, x, 'string');
  return items as string[];
}

/** Members of an array or set, in order (sets sorted). */
export function items(v: Value): Value[] | undefined {
  if (isArray(v)) return v;
  if (isSet(v)) return v.values();
  return undefined;
}
