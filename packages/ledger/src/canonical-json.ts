/**
 * RFC 8785 JSON Canonicalization Scheme. Numbers use the ECMAScript shortest round-trip form (which is what
 * JSON.stringify emits), strings use JSON.stringify escaping (identical to JCS), object keys are sorted by
 * UTF-16 code units. Anything I-JSON cannot carry is rejected instead of being silently dropped.
 */
export function canonicalJson(value: unknown): string {
  try {
    return serialize(value, new Set());
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

function serialize(value: unknown, ancestors: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`is ${value}, which JSON cannot represent`);
      return JSON.stringify(value);
    case 'string':
      return serializeString(value);
    case 'object':
      return serializeContainer(value as object, ancestors);
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

function serializeContainer(value: object, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw new CanonicalJsonError('is a cycle');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      let out = '[';
      for (let i = 0; i < value.length; i++) {
        if (i > 0) out += ',';
        try {
          out += serialize(value[i], ancestors);
        } catch (error) {
          addSegment(error, `[${i}]`);
        }
      }
      return `${out}]`;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new CanonicalJsonError(`is a ${proto?.constructor?.name ?? 'non-plain'} object; only plain objects and arrays are allowed`);
    }
    const keys = Object.keys(value).sort();
    let out = '{';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const item = (value as Record<string, unknown>)[key];
      try {
        if (item === undefined) throw new CanonicalJsonError('is undefined');
        out += `${i > 0 ? ',' : ''}${quoteKey(key)}:${serialize(item, ancestors)}`;
      } catch (error) {
        addSegment(error, `.${key}`);
      }
    }
    return `${out}}`;
  } finally {
    ancestors.delete(value);
  }
}
