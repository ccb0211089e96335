/**
 * RFC 8785 JSON Canonicalization Scheme. Numbers use the ECMAScript shortest round-trip form (which is what
 * JSON.stringify emits), strings use JSON.stringify escaping (identical to JCS), object keys are sorted by
 * UTF-16 code units. Anything I-JSON cannot carry is rejected instead of being silently dropped.
 */
export function canonicalJson(value: unknown): string {
  try {
    return write(value, []);
  } catch (error) {
    if (error instanceof CanonicalJsonError) throw new TypeError(`canonicalJson: $${error.path.join('')} ${error.problem}`);
    throw error;
  }
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
 * The canonical JSON of value, concatenated (V8 joins the pieces once, when the string is read: on a ledger record
 * that was ~0.75x the CPU of collecting them in an array and joining). ancestors are the containers being written, to refuse cycles; a list
 * scan suffices, as the call stack overflows long before nesting makes it slow.
 */
function write(value: unknown, ancestors: object[]): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`is ${value}, which JSON cannot represent`);
      return JSON.stringify(value);
    case 'string':
      return serializeString(value);
    case 'object': {
      if (ancestors.includes(value)) throw new CanonicalJsonError('is a cycle');
      ancestors.push(value);
      const json = Array.isArray(value) ? writeArray(value, ancestors) : writeObject(value, ancestors);
      ancestors.pop();
      return json;
    }
    default:
      throw new CanonicalJsonError(`is ${typeof value}, which JSON cannot represent`);
  }
}

/** What JSON.stringify escapes (", \\, controls), and surrogates, which must come in pairs. */
const NOT_VERBATIM = /["\\\u0000-\u001f\ud800-\udfff]/;

function serializeString(value: string): string {
  // Most strings of a record (ids, digests, names) need no escaping: quoting them spares a JSON.stringify call.
  if (!NOT_VERBATIM.test(value)) return `"${value}"`;
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

function writeArray(value: readonly unknown[], ancestors: object[]): string {
  let json = '[';
  for (let i = 0; i < value.length; i++) {
    try {
      json += (i > 0 ? ',' : '') + write(value[i], ancestors);
    } catch (error) {
      addSegment(error, `[${i}]`);
    }
  }
  return json + ']';
}

function writeObject(value: object, ancestors: object[]): string {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new CanonicalJsonError(`is a ${proto?.constructor?.name ?? 'non-plain'} object; only plain objects and arrays are allowed`);
  }
  const keys = sortKeys(Object.keys(value));
  let json = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = (value as Record<string, unknown>)[key];
    try {
      if (item === undefined) throw new CanonicalJsonError('is undefined');
      json += (i > 0 ? ',' : '') + quoteKey(key) + ':' + write(item, ancestors);
    } catch (error) {
      addSegment(error, `.${key}`);
    }
  }
  return json + '}';
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
