/** semver.is_valid and semver.compare (OPA internal/semver: optional leading "v", SemVer 2.0 precedence). */
import type { Value } from '../value.js';
import { BuiltinError, type BuiltinTable } from './registry.js';
import { str } from './operands.js';

interface Version { major: bigint; minor: bigint; patch: bigint; pre: string }

const META = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;
const INT64 = /^[+-]?[0-9]+$/;

function cut(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

export function parseSemver(text: string): Version | undefined {
  let v = text.startsWith('v') ? text.slice(1) : text;
  let meta: string, pre: string;
  [v, meta] = cut(v, '+');
  if (meta !== '' && !META.test(meta)) return undefined;
  [v, pre] = cut(v, '-');
  if (pre !== '' && !META.test(pre)) return undefined;
  const parts = v.split('.');
  if (parts.length !== 3 || !parts.every((p) => INT64.test(p))) return undefined;
  const [major, minor, patch] = parts.map(BigInt);
  const max = 2n ** 63n;
  if ([major, minor, patch].some((n) => n >= max || n < -max)) return undefined;
  return { major, minor, patch, pre };
}

const isNumeric = (s: string): boolean => /^[0-9]+$/.test(s);

export function compareSemver(a: Version, b: Version): number {
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (a[k] !== b[k]) return a[k] > b[k] ? 1 : -1;
  }
  if (a.pre === b.pre) return 0;
  if (a.pre === '') return 1;
  if (b.pre === '') return -1;
  const xs = a.pre.split('.'), ys = b.pre.split('.');
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i], y = ys[i];
    const xn = isNumeric(x), yn = isNumeric(y);
    if (xn && !yn) return -1;
    if (!xn && yn) return 1;
    if (xn && yn) {
      const d = BigInt(x) - BigInt(y);
      if (d !== 0n) return d > 0n ? 1 : -1;
    } else if (x !== y) return x > y ? 1 : -1;
  }
  return Math.sign(xs.length - ys.length);
}

function operand(v: Value, pos: number): Version {
  const s = str(v, pos);
  const parsed = parseSemver(s);
  if (!parsed) throw new BuiltinError(`operand ${pos}: string ${JSON.stringify(s)} is not a valid SemVer`);
  return parsed;
}

export const builtins: BuiltinTable = {
  'semver.is_valid': {
    name: 'semver.is_valid',
    args: ['any'],
    result: 'boolean',
    fn: ([v]) => typeof v === 'string' && parseSemver(v) !== undefined,
  },
  'semver.compare': {
    name: 'semver.compare',
    args: ['string', 'string'],
    result: 'number',
    fn: ([a, b]) => compareSemver(operand(a, 1), operand(b, 2)),
  },
};
