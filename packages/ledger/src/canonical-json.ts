/**
 * RFC 8785 JSON Canonicalization Scheme. Numbers use the ECMAScript shortest round-trip form (which is what
 * JSON.stringify emits), strings use JSON.stringify escaping (identical to JCS), object keys are sorted by
 * UTF-16 code units. Anything I-JSON cannot carry is rejected instead of being silently dropped.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, '$', new Set());
}

function serialize(value: unknown, path: string, ancestors: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${path} is ${value}, which JSON cannot represent`);
      return JSON.stringify(value);
    case 'string':
      return serializeString(value, path);
    case 'object':
      return serializeContainer(value as object, path, ancestors);
    default:
      throw new TypeError(`canonicalJson: ${path} is ${typeof value}, which JSON cannot represent`);
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function serializeString(value: string, path: string): string {
  if (LONE_SURROGATE.test(value)) throw new TypeError(`canonicalJson: ${path} contains a lone surrogate (not I-JSON)`);
  return JSON.stringify(value);
}

function serializeContainer(value: object, path: string, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw new TypeError(`canonicalJson: ${path} is a cycle`);
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((item, i) => serialize(item, `${path}[${i}]`, ancestors)).join(',')}]`;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`canonicalJson: ${path} is a ${proto?.constructor?.name ?? 'non-plain'} object; only plain objects and arrays are allowed`);
    }
    const keys = Object.keys(value).sort();
    const members = keys.map((key) => {
      const item = (value as Record<string, unknown>)[key];
      const itemPath = `${path}.${key}`;
      if (item === undefined) throw new TypeError(`canonicalJson: ${itemPath} is undefined`);
      return `${serializeString(key, itemPath)}:${serialize(item, itemPath, ancestors)}`;
    });
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}
