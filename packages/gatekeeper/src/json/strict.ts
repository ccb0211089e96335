/**
 * JSON the policy reads, parsed so that nobody downstream can read the same bytes another way:
 *
 * - duplicate keys are refused ({"total":2400000,"total":10} means 10 to JSON.parse and 2.4M to other parsers),
 *   with the path of the duplicate;
 * - integers beyond ±2^53 are refused (a big-integer parser upstream would see another number than the policy);
 * - shape limits (depth, array length, keys per object, string length, values in all) are checked before the
 *   document reaches the policy, so one huge request cannot stall every other one.
 *
 * The fast path is one JSON.parse plus one byte scan; the slow path (naming a duplicate's path) runs only on error.
 */

export interface JsonLimits {
  depth: number;
  arrayLength: number;
  objectKeys: number;
  stringLength: number;
  /** Values (objects, arrays, strings, numbers, literals) in the whole document. */
  values: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { depth: 64, arrayLength: 10_000, objectKeys: 1_000, stringLength: 4 * 1024 * 1024, values: 100_000 };

export type JsonProblem =
  | { kind: 'syntax'; message: string }
  | { kind: 'duplicate_key'; message: string; path: string }
  | { kind: 'unsafe_number'; message: string }
  | { kind: 'limit'; message: string; limit: keyof JsonLimits };

export class StrictJsonError extends Error {
  constructor(readonly problem: JsonProblem) {
    super(problem.message);
    this.name = 'StrictJsonError';
  }
}

/** Parses `text`; throws StrictJsonError naming the problem. `where` prefixes paths in messages (e.g. "body"). */
export function parseStrictJson(text: string, limits: JsonLimits = DEFAULT_JSON_LIMITS, where = '$'): unknown {
  // The scan runs first: a document over the limits is refused before the (blocking) parse of all of it.
  const { members, unsafe } = scan(text, limits, where);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new StrictJsonError({ kind: 'syntax', message: `${where} is not valid JSON: ${(err as Error).message}` });
  }
  if (unsafe) throw new StrictJsonError({ kind: 'unsafe_number', message: `${where} holds the integer ${unsafe}, beyond what every JSON reader sees the same (±2^53)` });
  if (members !== countMembers(value)) {
    const path = duplicatePath(text, where) ?? where;
    throw new StrictJsonError({ kind: 'duplicate_key', path, message: `duplicate key ${path} in JSON: the same key twice can be read two ways` });
  }
  return value;
}

/** Checks shape limits on the raw text; returns the number of object members it holds and the first unsafe integer. */
function scan(text: string, limits: JsonLimits, where: string): { members: number; unsafe?: string } {
  let unsafe: string | undefined;
  const arrays: number[] = []; // per open container: -1 for an object, else the array's element count so far
  const keys: number[] = [];
  let members = 0;
  let values = 0;
  const over = (limit: keyof JsonLimits, what: string): never => {
    throw new StrictJsonError({ kind: 'limit', limit, message: `${where} exceeds the JSON limit ${limit} = ${limits[limit]} (${what})` });
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      if (i - start - 1 > limits.stringLength) over('stringLength', `a string of ${i - start - 1} characters`);
      values++;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      values++;
      if (arrays.length >= limits.depth) over('depth', `nesting deeper than ${limits.depth}`);
      arrays.push(c === 0x7b ? -1 : 0);
      keys.push(0);
      if (c === 0x5b && firstNonSpace(text, i + 1) !== 0x5d) arrays[arrays.length - 1] = 1;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      arrays.pop();
      keys.pop();
    } else if (c === 0x3a /* : */) {
      members++;
      if (++keys[keys.length - 1]! > limits.objectKeys) over('objectKeys', `an object with more than ${limits.objectKeys} keys`);
    } else if (c === 0x2c /* , */) {
      const top = arrays.length - 1;
      if (arrays[top]! >= 0 && ++arrays[top]! > limits.arrayLength) over('arrayLength', `an array with more than ${limits.arrayLength} elements`);
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      let integer = true;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x2e || d === 0x65 || d === 0x45) integer = false;
        else if (!(d >= 0x30 && d <= 0x39) && d !== 0x2b && d !== 0x2d) break;
      }
      const token = text.slice(i, j);
      if (integer && token.length > 15 && unsafe === undefined && !Number.isSafeInteger(Number(token))) unsafe = token;
      values++;
      i = j - 1;
    } else if (c === 0x74 || c === 0x66 || c === 0x6e /* t f n */) {
      values++;
      i += c === 0x66 ? 4 : 3;
    }
    if (values > limits.values) over('values', `more than ${limits.values} values`);
  }
  return { members, ...(unsafe !== undefined ? { unsafe } : {}) };
}

function firstNonSpace(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
  }
  return -1;
}

function countMembers(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (const v of value) n += countMembers(v);
    return n;
  }
  for (const key in value) n += 1 + countMembers((value as Record<string, unknown>)[key]);
  return n;
}

/** The path of the first duplicate key (slow: only used to explain a refusal). */
function duplicatePath(text: string, where: string): string | undefined {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const str = (): string => {
    const start = i;
    for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): string | undefined => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      for (space(); text[i] !== '}'; space()) {
        const key = str();
        const at = `${path}.${key}`;
        if (seen.has(key)) return at;
        seen.add(key);
        space();
        i++; // ':'
        const found = value(at);
        if (found) return found;
        space();
        if (text[i] === ',') i++;
      }
      i++;
      return undefined;
    }
    if (c === '[') {
      i++;
      for (let n = 0; (space(), text[i] !== ']'); n++) {
        const found = value(`${path}.${n}`);
        if (found) return found;
        space();
        if (text[i] === ',') i++;
      }
      i++;
      return undefined;
    }
    if (c === '"') str();
    else while (i < text.length && !',]} \t\n\r'.includes(text[i]!)) i++;
    return undefined;
  };
  return value(where);
}
