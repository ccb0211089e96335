/**
 * Rego values. Scalars are JS primitives (numbers via ./num.ts), arrays are plain JS arrays
 * (treated as immutable), sets and objects are RSet / RObject, keyed by a canonical key so
 * that any Rego value can be a set member or an object key.
 */
import { BigDec, cmpNum, isNumValue, numFromJS, numFromString, numToJS, numToString, type Num } from './num.js';

export type { Num } from './num.js';
export type Value = null | boolean | string | Num | Value[] | RSet | RObject;

/**
 * Map key for a value: primitives stand for themselves, composites use their canonical text. (Here and in
 * typeName, `typeof v === '...'` tests compile to type checks; a switch on `typeof v` calls V8's Typeof.)
 */
export function keyOf(v: Value): unknown {
  if (typeof v === 'string') return v.charCodeAt(0) === 1 ? `\u0001s${v}` : v;
  if (typeof v === 'number') return v === 0 ? 0 : v; // -0 and 0 are one key
  if (typeof v === 'boolean' || typeof v === 'bigint' || v === null) return v;
  return `\u0001c${valueToString(v)}`;
}

/**
 * The map of every empty set and object until its first member: many collections a policy builds stay empty
 * (no denials, no obligations), and they need no map of their own. Never written: add/set replace it first.
 */
const NO_ENTRIES = new Map<unknown, Value>();

export class RSet {
  private map: Map<unknown, Value> = NO_ENTRIES;
  private sorted: Value[] | undefined;
  /** valueToString of the set, kept: it is the set's key as a member or object key */
  text: string | undefined;

  get size(): number {
    return this.map.size;
  }
  has(v: Value): boolean {
    return this.map.has(keyOf(v));
  }
  /** Members sorted by `compare`. */
  values(): Value[] {
    if (!this.sorted) this.sorted = [...this.map.values()].sort(compare);
    return this.sorted;
  }
  [Symbol.iterator](): Iterator<Value> {
    return this.values()[Symbol.iterator]();
  }
  /** Members in insertion order (cheaper when order does not matter). */
  unsortedValues(): IterableIterator<Value> {
    return this.map.values();
  }
  /** Builder use only, before the set is shared. */
  add(v: Value): void {
    const k = keyOf(v);
    if (!this.map.has(k)) {
      if (this.map === NO_ENTRIES) this.map = new Map();
      this.map.set(k, v);
      this.sorted = undefined;
      this.text = undefined;
    }
  }
}

export class RObject {
  /** values by canonical key (`keyOf`): no per-entry pair is kept, most keys are strings that key themselves */
  private map: Map<unknown, Value> = NO_ENTRIES;
  /**
   * A host object whose members are converted when first read (`fromJSONLazy`): a policy reads a few fields of
   * a large input, and converting it all per query costs more than the evaluation. Anything that needs every
   * member converts the rest first (`force`).
   */
  private raw: Record<string, unknown> | undefined;
  /** the keys whose canonical key is not the key itself (composites, strings starting with \u0001) */
  private odd: Map<unknown, Value> | undefined;
  private sorted: [Value, Value][] | undefined;
  /** valueToString of the object, kept: it is the object's key as a set member or object key */
  text: string | undefined;

  static lazy(raw: Record<string, unknown>): RObject {
    const o = new RObject();
    o.raw = raw;
    return o;
  }
  get size(): number {
    if (this.raw) this.force();
    return this.map.size;
  }
  get(k: Value): Value | undefined {
    if (this.raw) return this.lazyGet(k);
    return this.map.get(typeof k === 'string' && k.charCodeAt(0) !== 1 ? k : keyOf(k));
  }
  has(k: Value): boolean {
    if (this.raw) return this.lazyGet(k) !== undefined;
    return this.map.has(typeof k === 'string' && k.charCodeAt(0) !== 1 ? k : keyOf(k));
  }
  private lazyGet(k: Value): Value | undefined {
    // a host object has string keys only; keys that are not their own canonical key take the general path
    if (typeof k !== 'string') return undefined;
    if (k.charCodeAt(0) === 1) { this.force(); return this.get(k); }
    const raw = this.raw!;
    const x = raw[k];
    // scalars convert to themselves (no prototype member of a plain object is one): nothing to keep
    if (typeof x === 'string' || typeof x === 'boolean') return x;
    if (typeof x === 'number') return x === 0 ? 0 : x;
    if (x === undefined) return Object.prototype.hasOwnProperty.call(raw, k) ? null : undefined;
    let v = this.map.get(k);
    if (v !== undefined || !Object.prototype.hasOwnProperty.call(raw, k)) return v;
    v = fromJSONLazy(x);
    if (this.map === NO_ENTRIES) this.map = new Map();
    this.map.set(k, v);
    return v;
  }
  /** Converts the members of a lazy object not read yet. */
  private force(): void {
    const raw = this.raw!;
    this.raw = undefined;
    for (const k of Object.keys(raw)) if (k.charCodeAt(0) === 1 || !this.map.has(k)) this.set(k, fromJSONLazy(raw[k]));
  }
  /** Entries sorted by key. */
  entries(): [Value, Value][] {
    if (this.raw) this.force();
    if (!this.sorted) {
      const out: [Value, Value][] = [];
      for (const [ck, v] of this.map) out.push([this.keyOf(ck), v]);
      this.sorted = out.sort((a, b) => compare(a[0], b[0]));
    }
    return this.sorted;
  }
  keys(): Value[] {
    return this.entries().map((e) => e[0]);
  }
  /** Entries in insertion order (cheaper when order does not matter). */
  *unsortedEntries(): IterableIterator<[Value, Value]> {
    if (this.raw) this.force();
    for (const [ck, v] of this.map) yield [this.keyOf(ck), v];
  }
  /** Builder use only, before the object is shared. Overwrites an existing key. */
  set(k: Value, v: Value): void {
    if (this.raw) this.force();
    const ck = keyOf(k);
    if (ck !== k && typeof k !== 'number') (this.odd ??= new Map()).set(ck, k);
    if (this.map === NO_ENTRIES) this.map = new Map();
    this.map.set(ck, v);
    this.sorted = undefined;
    this.text = undefined;
  }
  /** Same members as `b` (canonical keys are the same in both objects, so no key is converted). */
  equals(b: RObject): boolean {
    if (this.raw) this.force();
    if (b.raw) b.force();
    if (this.map.size !== b.map.size) return false;
    for (const [ck, v] of this.map) {
      const w = b.map.get(ck);
      if (w === undefined || !equal(v, w)) return false;
    }
    return true;
  }
  /** The key stored under a canonical key. */
  private keyOf(ck: unknown): Value {
    const k = this.odd?.get(ck);
    return k === undefined ? (ck as Value) : k;
  }
}

export function makeSet(values: Iterable<Value>): RSet {
  const s = new RSet();
  for (const v of values) s.add(v);
  return s;
}

export function makeObject(entries: Iterable<[Value, Value]>): RObject {
  const o = new RObject();
  for (const [k, v] of entries) o.set(k, v);
  return o;
}

export function isNum(v: Value): v is Num {
  return isNumValue(v);
}
export function isObject(v: Value): v is RObject {
  return v instanceof RObject;
}
export function isSet(v: Value): v is RSet {
  return v instanceof RSet;
}
export function isArray(v: Value): v is Value[] {
  return Array.isArray(v);
}

export type TypeName = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'set';

export function typeName(v: Value): TypeName {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (typeof v === 'boolean') return 'boolean';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof RObject) return 'object';
  if (v instanceof RSet) return 'set';
  return 'number'; // BigDec
}

const TYPE_RANK: Record<TypeName, number> = { null: 0, boolean: 1, number: 2, string: 3, array: 4, object: 5, set: 6 };

/** OPA's total order: null < boolean < number < string < array < object < set. */
export function compare(a: Value, b: Value): number {
  if (a === b) return 0;
  const ta = typeName(a), tb = typeName(b);
  if (ta !== tb) return TYPE_RANK[ta] - TYPE_RANK[tb];
  switch (ta) {
    case 'null': return 0;
    case 'boolean': return a === b ? 0 : a ? 1 : -1;
    case 'number': return cmpNum(a as Num, b as Num);
    case 'string': return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    case 'array': {
      return compareSequences(a as Value[], b as Value[]);
    }
    case 'object': {
      const x = (a as RObject).entries(), y = (b as RObject).entries();
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i][0], y[i][0]);
        if (c !== 0) return c;
        const d = compare(x[i][1], y[i][1]);
        if (d !== 0) return d;
      }
      return x.length - y.length;
    }
    case 'set':
      // Sets compare as their sorted members.
      return compareSequences((a as RSet).values(), (b as RSet).values());
  }
}

function compareSequences(x: readonly Value[], y: readonly Value[]): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const c = compare(x[i], y[i]);
    if (c !== 0) return c;
  }
  return x.length - y.length;
}

export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a === 'string' || typeof b === 'string' || typeof a === 'boolean' || typeof b === 'boolean') return false;
  if (a === null || b === null) return false;
  if (a instanceof RObject) {
    // no sorting needed for equality
    return b instanceof RObject && a.equals(b);
  }
  if (a instanceof RSet) {
    if (!(b instanceof RSet) || a.size !== b.size) return false;
    for (const v of a.unsortedValues()) if (!b.has(v)) return false;
    return true;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false;
    return true;
  }
  return compare(a, b) === 0;
}

/** JSON (as parsed by JSON.parse or the yaml package, bigints allowed) → Value. */
export function fromJSON(x: unknown): Value {
  switch (typeof x) {
    case 'string': case 'boolean': return x;
    case 'number': return x === 0 ? 0 : x;
    case 'bigint': return numFromJS(x);
    case 'undefined': return null;
    case 'object': {
      if (x === null) return null;
      if (Array.isArray(x)) return x.map(fromJSON);
      if (x instanceof RSet || x instanceof RObject || x instanceof BigDec) return x;
      if (x instanceof Map) {
        const o = new RObject();
        for (const [k, v] of x) o.set(fromJSON(k), fromJSON(v));
        return o;
      }
      if (x instanceof Set) return makeSet([...x].map(fromJSON));
      const o = new RObject();
      for (const k of Object.keys(x)) o.set(k, fromJSON((x as Record<string, unknown>)[k]));
      return o;
    }
    default:
      throw new ConversionError(`cannot convert ${typeof x} to a Rego value`);
  }
}

/**
 * A host value that cannot be a Rego value (a function, a symbol): an input error, also when it is met only
 * while a lazily converted input is read.
 */
export class ConversionError extends TypeError {}

/**
 * `fromJSON` for a query's input: plain objects become lazy RObjects whose members are converted when read.
 * The caller must not change the host value while the query runs.
 */
export function fromJSONLazy(x: unknown): Value {
  if (typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype) {
    return RObject.lazy(x as Record<string, unknown>);
  }
  if (Array.isArray(x)) return x.map(fromJSONLazy);
  return fromJSON(x);
}

/**
 * Value → JSON: sets become sorted arrays, non-string object keys their JSON text.
 * Integers beyond 2^53 come out as bigint (use `jsonText` for exact text).
 */
export function toJSON(v: Value): unknown {
  switch (typeof v) {
    case 'string': case 'boolean': case 'number': case 'bigint': return v;
    default:
      if (v === null) return null;
      if (v instanceof BigDec) return numToJS(v);
      if (Array.isArray(v)) return v.map(toJSON);
      if (v instanceof RSet) return v.values().map(toJSON);
      if (v instanceof RObject) {
        const o: Record<string, unknown> = {};
        for (const [k, val] of v.entries()) o[typeof k === 'string' ? k : jsonText(k)] = toJSON(val);
        return o;
      }
      return v;
  }
}

/** Scalars print the same as JSON and as Rego terms. */
function scalarText(v: Value): string | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string': return JSON.stringify(v);
    case 'boolean': return v ? 'true' : 'false';
    case 'number': case 'bigint': return numToString(v);
  }
  if (v instanceof BigDec) return numToString(v);
  return undefined;
}

/** Exact JSON text of a value (sets as sorted arrays, numbers exact). */
export function jsonText(v: Value, indent?: string, depth = 0): string {
  const scalar = scalarText(v);
  if (scalar !== undefined) return scalar;
  const nl = indent === undefined ? '' : `\n${indent.repeat(depth + 1)}`;
  const end = indent === undefined ? '' : `\n${indent.repeat(depth)}`;
  const sep = indent === undefined ? ':' : ': ';
  if (Array.isArray(v) || v instanceof RSet) {
    const items = Array.isArray(v) ? v : v.values();
    if (items.length === 0) return '[]';
    return `[${items.map((x) => nl + jsonText(x, indent, depth + 1)).join(',')}${end}]`;
  }
  const o = v as RObject;
  if (o.size === 0) return '{}';
  const parts = o.entries().map(([k, x]) => `${nl}${JSON.stringify(typeof k === 'string' ? k : jsonText(k))}${sep}${jsonText(x, indent, depth + 1)}`);
  return `{${parts.join(',')}${end}}`;
}

/** Rego text form of a value, as OPA prints terms. */
export function valueToString(v: Value): string {
  const scalar = scalarText(v);
  if (scalar !== undefined) return scalar;
  if (Array.isArray(v)) return `[${v.map(valueToString).join(', ')}]`;
  if (v instanceof RSet) return (v.text ??= v.size === 0 ? 'set()' : `{${v.values().map(valueToString).join(', ')}}`);
  const o = v as RObject;
  return (o.text ??= `{${o.entries().map(([k, x]) => `${valueToString(k)}: ${valueToString(x)}`).join(', ')}}`);
}

export { numFromString };
