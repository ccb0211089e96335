/** object.* builtins (OPA topdown/object.go, subset.go). */
import { isInteger, toSafeInt } from '../num.js';
import { equal, isArray, isNum, isObject, isSet, makeObject, makeSet, type RObject, type RSet, type Value } from '../value.js';
import { OperandTypeError, type BuiltinTable } from './registry.js';
import { arr, elementErr, obj, typeErr } from './operands.js';

/** Keys given as an array, set or object (its keys). */
function keysParam(v: Value): RSet {
  if (isArray(v)) return makeSet(v);
  if (isSet(v)) return v;
  if (isObject(v)) return makeSet(v.keys());
  throw typeErr(2, v, 'object', 'set', 'array');
}

/** Asymmetric recursive union: b wins, nested objects merge. */
export function mergeWithOverwrite(a: RObject, b: RObject): RObject {
  const out = makeObject(a.entries());
  for (const [k, bv] of b.entries()) {
    const av = out.get(k);
    out.set(k, av !== undefined && isObject(av) && isObject(bv) ? mergeWithOverwrite(av, bv) : bv);
  }
  return out;
}

/** ast.Value.Find: follow a path through objects, arrays (integer indexes) and sets. */
function find(v: Value, path: Value[]): Value | undefined {
  let cur = v;
  for (const seg of path) {
    if (isObject(cur)) {
      const next = cur.get(seg);
      if (next === undefined) return undefined;
      cur = next;
    } else if (isArray(cur)) {
      if (!isNum(seg) || !isInteger(seg)) return undefined;
      const i = toSafeInt(seg);
      if (i === undefined || i < 0 || i >= cur.length) return undefined;
      cur = cur[i];
    } else if (isSet(cur)) {
      if (!cur.has(seg)) return undefined;
      cur = seg;
    } else return undefined;
  }
  return cur;
}

function subset(sup: Value, sub: Value): boolean {
  if (isObject(sup) && isObject(sub)) {
    for (const [k, sv] of sub.entries()) {
      const pv = sup.get(k);
      if (pv === undefined || !nestedSubset(pv, sv)) return false;
    }
    return true;
  }
  if (isSet(sup) && isSet(sub)) return sub.values().every((x) => sup.has(x));
  if (isArray(sup) && isArray(sub)) return arraySubset(sup, sub);
  if (isArray(sup) && isSet(sub)) return sub.values().every((x) => sup.some((y) => equal(x, y)));
  throw new OperandTypeError('both arguments to object.subset must be of the same type or array and set');
}

function nestedSubset(sup: Value, sub: Value): boolean {
  const comparable = (isObject(sup) && isObject(sub)) || (isSet(sup) && isSet(sub)) || (isArray(sup) && (isArray(sub) || isSet(sub)));
  return comparable ? subset(sup, sub) : equal(sup, sub);
}

/** sub appears contiguously, in order, within sup. */
function arraySubset(sup: Value[], sub: Value[]): boolean {
  if (sub.length === 0) return true;
  for (let i = 0; i + sub.length <= sup.length; i++) {
    let ok = true;
    for (let j = 0; j < sub.length && ok; j++) ok = equal(sup[i + j], sub[j]);
    if (ok) return true;
  }
  return false;
}

export const builtins: BuiltinTable = {
  'object.get': {
    name: 'object.get',
    args: ['object', 'any', 'any'],
    result: 'any',
    fn: ([o, key, dflt]) => {
      const object = obj(o, 1);
      if (!isArray(key)) return object.get(key) ?? dflt;
      if (key.length === 0) return object;
      return find(object, key) ?? dflt;
    },
  },
  'object.keys': {
    name: 'object.keys',
    args: ['object'],
    result: 'set',
    fn: ([o]) => makeSet(obj(o, 1).keys()),
  },
  'object.remove': {
    name: 'object.remove',
    args: ['object', 'object|set|array'],
    result: 'object',
    fn: ([o, k]) => {
      const object = obj(o, 1);
      const keys = keysParam(k);
      return makeObject(object.entries().filter(([key]) => !keys.has(key)));
    },
  },
  'object.filter': {
    name: 'object.filter',
    args: ['object', 'object|set|array'],
    result: 'object',
    fn: ([o, k]) => {
      const object = obj(o, 1);
      const keys = keysParam(k);
      return makeObject(object.entries().filter(([key]) => keys.has(key)));
    },
  },
  'object.union': {
    name: 'object.union',
    args: ['object', 'object'],
    result: 'object',
    fn: ([a, b]) => mergeWithOverwrite(obj(a, 1), obj(b, 2)),
  },
  'object.union_n': {
    name: 'object.union_n',
    args: ['array[object]'],
    result: 'object',
    fn: ([a]) => {
      const xs = arr(a, 1);
      let out = makeObject([]);
      for (const x of xs) {
        if (!isObject(x)) throw elementErr(1, xs, x, 'object');
        out = mergeWithOverwrite(out, x);
      }
      return out;
    },
  },
  'object.subset': {
    name: 'object.subset',
    args: ['object|set|array', 'object|set|array'],
    result: 'boolean',
    fn: ([sup, sub]) => subset(sup, sub),
  },
};
