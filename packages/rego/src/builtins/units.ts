/**
 * units.parse and units.parse_bytes (OPA parse_units.go, parse_bytes.go), computed exactly on
 * rationals: the amount m×10^e times the unit factor.
 */
import { numFromJS, numFromString, type Num } from '../num.js';
import { BuiltinError, type BuiltinTable } from './registry.js';
import { str } from './operands.js';

const MAX_EXPONENT_DIGITS = 6;
/**
 * OPA accepts exponents up to 6 digits; a million-digit integer takes seconds to print, so a
 * hostile quantity like "1e999999" could stall the gateway. Real quantities stay far below this.
 */
const MAX_EXPONENT = 1000;

/** A rational num/den with den > 0. */
interface Rat { n: bigint; d: bigint }

const K = 1000n, KI = 1024n;
const pow = (b: bigint, k: number): bigint => b ** BigInt(k);

/** Splits "10.5e3KiB" into amount and unit the way OPA's extractNumAndUnit does. */
function extractNumAndUnit(s: string, fail: (msg: string) => BuiltinError): [string, string] {
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
  let first = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (!isDigit(c) && c !== '.' && c !== 'e' && c !== 'E' && c !== '+' && c !== '-') { first = i; break; }
    if (c === 'e' || c === 'E') {
      const nx = s[i + 1];
      if (i === s.length - 1 || (!isDigit(nx) && nx !== '+' && nx !== '-')) { first = i; break; }
      if (nx === '+' || nx === '-') i++;
      let j = i + 1;
      while (j < s.length && isDigit(s[j])) j++;
      if (j - (i + 1) > MAX_EXPONENT_DIGITS) throw fail('exponent too large');
    }
  }
  if (first === -1) return [s, ''];
  if (first === 0) return ['', s];
  return [s.slice(0, first), s.slice(first)];
}

/** Go's big.Rat.SetString for decimal text (sign, digits, point, exponent). */
function parseDecimal(s: string): Rat | undefined {
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  let n = BigInt((m[2] || '0') + frac);
  if (m[1] === '-') n = -n;
  const e = Number(m[4] ?? 0) - frac.length;
  if (Math.abs(e) > MAX_EXPONENT) throw new RangeError('exponent too large');
  return e >= 0 ? { n: n * pow(10n, e), d: 1n } : { n, d: pow(10n, -e) };
}

function parseAmount(amount: string, fail: (msg: string) => BuiltinError): Rat | undefined {
  try {
    return parseDecimal(amount);
  } catch {
    throw fail('exponent too large');
  }
}

/** big.Rat.FloatString(10): rounded to 10 decimals, halves away from zero. */
function ratToNum(r: Rat): Num {
  if (r.n % r.d === 0n) return numFromJS(r.n / r.d);
  const neg = r.n < 0n;
  const a = neg ? -r.n : r.n;
  const scaled = (a * 10n ** 10n * 2n + r.d) / (2n * r.d);
  const digits = scaled.toString().padStart(11, '0');
  const text = `${neg ? '-' : ''}${digits.slice(0, -10)}.${digits.slice(-10)}`;
  return numFromString(text) ?? 0;
}

const SI: Record<string, Rat> = {
  '': { n: 1n, d: 1n },
  m: { n: 1n, d: 1000n },
  k: { n: K, d: 1n }, K: { n: K, d: 1n }, ki: { n: KI, d: 1n }, Ki: { n: KI, d: 1n },
  M: { n: pow(K, 2), d: 1n }, mi: { n: pow(KI, 2), d: 1n }, Mi: { n: pow(KI, 2), d: 1n },
  g: { n: pow(K, 3), d: 1n }, G: { n: pow(K, 3), d: 1n }, gi: { n: pow(KI, 3), d: 1n }, Gi: { n: pow(KI, 3), d: 1n },
  t: { n: pow(K, 4), d: 1n }, T: { n: pow(K, 4), d: 1n }, ti: { n: pow(KI, 4), d: 1n }, Ti: { n: pow(KI, 4), d: 1n },
  p: { n: pow(K, 5), d: 1n }, P: { n: pow(K, 5), d: 1n }, pi: { n: pow(KI, 5), d: 1n }, Pi: { n: pow(KI, 5), d: 1n },
  e: { n: pow(K, 6), d: 1n }, E: { n: pow(K, 6), d: 1n }, ei: { n: pow(KI, 6), d: 1n }, Ei: { n: pow(KI, 6), d: 1n },
};

const BYTES: Record<string, bigint> = { '': 1n };
['k', 'm', 'g', 't', 'p', 'e'].forEach((u, i) => {
  BYTES[u] = BYTES[`${u}b`] = pow(K, i + 1);
  BYTES[`${u}i`] = BYTES[`${u}ib`] = pow(KI, i + 1);
});

function parseUnits(raw: string): Num {
  const fail = (msg: string): BuiltinError => new BuiltinError(`units.parse: ${msg}`);
  const s = raw.replace(/"/g, '');
  if (s.includes(' ')) throw fail('spaces not allowed in resource strings');
  const [amount, rawUnit] = extractNumAndUnit(s, fail);
  if (amount === '') throw fail('no amount provided');
  // only the letters after the first are case-insensitive, so that m (milli) and M (mega) differ
  const unit = rawUnit.length > 1 ? rawUnit[0] + rawUnit.slice(1).toLowerCase() : rawUnit;
  const factor = SI[unit];
  if (!factor) throw fail(`unit ${unit} not recognized`);
  const x = parseAmount(amount, fail);
  if (!x) throw fail('could not parse amount to a number');
  return ratToNum({ n: x.n * factor.n, d: x.d * factor.d });
}

function parseBytes(raw: string): Num {
  const fail = (msg: string): BuiltinError => new BuiltinError(`units.parse_bytes: ${msg}`);
  const s = raw.toLowerCase().replace(/"/g, '');
  if (s.includes(' ')) throw fail('spaces not allowed in resource strings');
  const [amount, unit] = extractNumAndUnit(s, fail);
  if (amount === '') throw fail('no byte amount provided');
  const factor = BYTES[unit];
  if (factor === undefined) throw fail(`byte unit ${unit} not recognized`);
  const x = parseAmount(amount, fail);
  if (!x) throw fail('could not parse byte amount to a number');
  return numFromJS((x.n * factor) / x.d); // truncated toward zero, as big.Float.Int does
}

export const builtins: BuiltinTable = {
  'units.parse': { name: 'units.parse', args: ['string'], result: 'number', fn: ([x]) => parseUnits(str(x, 1)) },
  'units.parse_bytes': { name: 'units.parse_bytes', args: ['string'], result: 'number', fn: ([x]) => parseBytes(str(x, 1)) },
};
