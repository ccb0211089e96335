/**
 * RFC 8785 JSON Canonicalization Scheme. Numbers use the ECMAScript shortest round-trip form (which is what
 * JSON.stringify emits), strings use JSON.stringify escaping (identical to JCS), object keys are sorted by
 * UTF-16 code units. Anything I-JSON cannot carry is rejected instead of being silently dropped.
 */
export function canonicalJson(value: unknown): string {
  const ordered = inCanonicalOrder(value, 0);
  if (ordered !== SLOW_PATH) return JSON.stringify(ordered);
  // Pieces joined once at the end: concatenating as we go left a trail of intermediate strings for the GC.
  const out: string[] = [];
  try {
    write(value, out, []);
  } catch (error) {
    if (error instanceof CanonicalJsonError) throw new TypeError(`canonicalJson: $${error.path.join('')} ${error.problem}`);
    throw error;
  }
  return out.join('');
}

const SLOW_PATH = Symbol('slow path');
/** Deeper than this, the writer below checks for cycles (and names the path of whatever is wrong). */
const MAX_FAST_DEPTH = 64;

/**
 * The value with every object's keys in canonical order, for one JSON.stringify, whose escaping and number form are
 * JCS's: one native pass instead of a JSON.stringify call per string. Objects already in order are kept, others
 * copied. SLOW_PATH for anything the writer below must handle or refuse: a value I-JSON cannot carry, deep nesting,
 * an array-index key (such as "10": objects list those first, in numeric order, whatever the insertion order) or
 * "__proto__" (a copy would take it for the prototype).
 */
function inCanonicalOrder(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return SURROGATE.test(value) && LONE_SURROGATE.test(value) ? SLOW_PATH : value;
    case 'number':
      return Number.isFinite(value) ? value : SLOW_PATH;
    case 'boolean':
      return value;
    case 'object':
      if (value === null) return value;
      if (depth >= MAX_FAST_DEPTH) return SLOW_PATH;
      return Array.isArray(value) ? arrayInOrder(value, depth + 1) : objectInOrder(value, depth + 1);
    default:
      return SLOW_PATH;
  }
}

function arrayInOrder(value: readonly unknown[], depth: number): unknown {
  let copy: unknown[] | undefined;
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if (item === undefined) return SLOW_PATH;
    const ordered = inCanonicalOrder(item, depth);
    if (ordered === SLOW_PATH) return SLOW_PATH;
    if (ordered !== item) (copy ??= value.slice(0, i)).push(ordered);
    else copy?.push(item);
  }
  return copy ?? value;
}

function objectInOrder(value: object, depth: number): unknown {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return SLOW_PATH;
  const keys = Object.keys(value);
  let sorted = true;
  for (let i = 0; i < keys.length; i++) {
    const first = keys[i]!.charCodeAt(0);
    if ((first >= 48 && first <= 57) || keys[i] === '__proto__') return SLOW_PATH;
    if (i > 0 && keys[i - 1]! > keys[i]!) sorted = false;
  }
  if (!sorted) sortKeys(keys);
  let changed = !sorted;
  const values: unknown[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const item = (value as Record<string, unknown>)[keys[i]!];
    if (item === undefined) return SLOW_PATH;
    const ordered = inCanonicalOrder(item, depth);
    if (ordered === SLOW_PATH) return SLOW_PATH;
    if (ordered !== item) changed = true;
    values[i] = ordered;
  }
  if (!changed) return value;
  const copy: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) copy[keys[i]!] = values[i];
  return copy;
}

/** Collects the path while the stack unwinds, so the happy path builds no path strings. */
class CanonicalJsonError extends Error {
  readonly path: string[] = [];
  constructor(readonly problem: string) {
    super(problem);
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Appends the canonical JSON of value to out. ancestors are the containers being written, to refuse cycles; a list
 * scan suffices, as the call stack overflows long before nesting makes it slow.
 */
function write(value: unknown, out: string[], ancestors: object[]): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`is ${value}, which JSON cannot represent`);
      out.push(JSON.stringify(value));
      return;
    case 'string':
      out.push(serializeString(value));
      return;
    case 'object':
      if (ancestors.includes(value)) throw new CanonicalJsonError('is a cycle');
      ancestors.push(value);
      if (Array.isArray(value)) writeArray(value, out, ancestors);
      else writeObject(value, out, ancestors);
      ancestors.pop();
      return;
    default:
      throw new CanonicalJsonError(`is ${typeof value}, which JSON cannot represent`);
  }
}

function serializeString(value: string): string {
  if (SURROGATE.test(value) && LONE_SURROGATE.test(value)) throw new CanonicalJsonError('contains a lone surrogate (not I-JSON)');
  return JSON.stringify(value);
}

// Records repeat a small vocabulary of keys; quoting each one anew was a tenth of the cost of encoding a record.
const quotedKeys = new Map<string, string>();
const MAX_QUOTED_KEYS = 4096;

function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = serializeString(key);
    if (quotedKeys.size < MAX_QUOTED_KEYS) quotedKeys.set(key, quoted);
  }
  return quoted;
}

function addSegment(error: unknown, segment: string): never {
  if (error instanceof CanonicalJsonError) error.path.unshift(segment);
  throw error;
}

function writeArray(value: readonly unknown[], out: string[], ancestors: object[]): void {
  out.push('[');
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out.push(',');
    try {
      write(value[i], out, ancestors);
    } catch (error) {
      addSegment(error, `[${i}]`);
    }
  }
  out.push(']');
}

function writeObject(value: object, out: string[], ancestors: object[]): void {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new CanonicalJsonError(`is a ${proto?.constructor?.name ?? 'non-plain'} object; only plain objects and arrays are allowed`);
  }
  const keys = sortKeys(Object.keys(value));
  out.push('{');
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = (value as Record<string, unknown>)[key];
    try {
      if (item === undefined) throw new CanonicalJsonError('is undefined');
      out.push(i > 0 ? ',' : '', quoteKey(key), ':');
      write(item, out, ancestors);
    } catch (error) {
      addSegment(error, `.${key}`);
    }
  }
  out.push('}');
}

/**
 * Sorts by UTF-16 code units, as Array.prototype.sort does; the few keys of a typical object are sorted in place
 * by insertion, because sort() copies into a work array on every call.
 */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > key; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = key;
  }
  return keys;
}
