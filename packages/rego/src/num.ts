/**
 * Exact Rego numbers.
 *
 * Representation (opaque to callers — always go through the functions below):
 *  - a JS `number` for doubles and for integers inside ±2^53 (the fast path),
 *  - a `bigint` for integers outside ±2^53 (never for integers that fit a safe JS number),
 *  - a `BigDec` for decimals whose text does not round-trip through a double
 *    (e.g. `1.000000000000000000001`), kept exactly as mantissa × 10^exp.
 * OPA computes integers with big.Int, so integer arithmetic here is exact whatever the size;
 * non-integer arithmetic uses doubles (OPA uses big.Float; results agree to the printed precision).
 */
export class BigDec {
  /** value = m × 10^e, e < 0, m not divisible by 10 */
  constructor(readonly m: bigint, readonly e: number) {}
}

export type Num = number | bigint | BigDec;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

function normBig(b: bigint): Num {
  return b <= MAX_SAFE && b >= MIN_SAFE ? Number(b) : b;
}

export function isNumValue(v: unknown): v is Num {
  return typeof v === 'number' || typeof v === 'bigint' || v instanceof BigDec;
}

export function numFromJS(n: number | bigint): Num {
  if (typeof n === 'bigint') return normBig(n);
  return n;
}

const NUM_RE = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/** Parses a JSON/Rego number literal exactly. Returns undefined for malformed text. */
export function numFromString(s: string): Num | undefined {
  if (!NUM_RE.test(s)) return undefined;
  const f = Number(s);
  if (/^-?[0-9]+$/.test(s)) {
    if (Number.isSafeInteger(f)) return f;
    return normBig(BigInt(s));
  }
  // decimal or exponent form: exact if it is an integer, else double unless precision would be lost
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(s)!;
  const digits = m[2] + (m[3] ?? '');
  let exp = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
  let mant = BigInt(digits);
  if (m[1] === '-') mant = -mant;
  if (mant === 0n) return 0;
  if (Math.abs(exp) > 400) return Number.isFinite(f) ? f : undefined;
  while (mant % 10n === 0n && mant !== 0n) { mant /= 10n; exp++; }
  if (exp >= 0) return normBig(mant * 10n ** BigInt(exp));
  if (!Number.isFinite(f)) return undefined;
  // keep the double when it prints back to the same decimal
  if (sameDecimal(f, mant, exp)) return f;
  return new BigDec(mant, exp);
}

function sameDecimal(f: number, mant: bigint, exp: number): boolean {
  const d = decFromDouble(f);
  return d !== undefined && d.m === mant && d.e === exp;
}

/** Exact decimal of the shortest round-trip text of a double (JS's own toString). */
function decFromDouble(f: number): { m: bigint; e: number } | undefined {
  if (!Number.isFinite(f)) return undefined;
  const s = String(f);
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:e([+-]?[0-9]+))?$/.exec(s);
  if (!m) return undefined;
  let mant = BigInt(m[2] + (m[3] ?? ''));
  if (m[1] === '-') mant = -mant;
  let exp = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
  if (mant === 0n) return { m: 0n, e: 0 };
  while (mant % 10n === 0n) { mant /= 10n; exp++; }
  return { m: mant, e: exp };
}

function toDec(n: Num): { m: bigint; e: number } {
  if (n instanceof BigDec) return { m: n.m, e: n.e };
  if (typeof n === 'bigint') return { m: n, e: 0 };
  if (Number.isInteger(n)) return { m: BigInt(n), e: 0 };
  return decFromDouble(n)!;
}

function fromDec(m: bigint, e: number): Num {
  if (m === 0n) return 0;
  while (m % 10n === 0n) { m /= 10n; e++; }
  if (e >= 0) return normBig(m * 10n ** BigInt(e));
  const f = Number(`${m}e${e}`);
  if (sameDecimal(f, m, e)) return f;
  return new BigDec(m, e);
}

export function isInteger(n: Num): boolean {
  if (typeof n === 'number') return Number.isInteger(n);
  return typeof n === 'bigint';
}

function bothExactInts(a: Num, b: Num): boolean {
  return (typeof a === 'bigint' || (typeof a === 'number' && Number.isInteger(a)))
    && (typeof b === 'bigint' || (typeof b === 'number' && Number.isInteger(b)));
}

function big(n: Num): bigint {
  return typeof n === 'bigint' ? n : BigInt(n as number);
}

export function add(a: Num, b: Num): Num {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r) || !Number.isInteger(a) || !Number.isInteger(b)) return r;
    return normBig(BigInt(a) + BigInt(b));
  }
  if (bothExactInts(a, b)) return normBig(big(a) + big(b));
  return decArith(a, b, (x, y) => x + y);
}

export function sub(a: Num, b: Num): Num {
  return add(a, neg(b));
}

export function mul(a: Num, b: Num): Num {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a * b;
    if (Number.isSafeInteger(r) || !Number.isInteger(a) || !Number.isInteger(b)) return r;
    return normBig(BigInt(a) * BigInt(b));
  }
  if (bothExactInts(a, b)) return normBig(big(a) * big(b));
  const x = toDec(a), y = toDec(b);
  return fromDec(x.m * y.m, x.e + y.e);
}

function decArith(a: Num, b: Num, op: (x: bigint, y: bigint) => bigint): Num {
  const x = toDec(a), y = toDec(b);
  const e = Math.min(x.e, y.e);
  const xm = x.m * 10n ** BigInt(x.e - e), ym = y.m * 10n ** BigInt(y.e - e);
  return fromDec(op(xm, ym), e);
}

/** Division; throws RangeError on division by zero (callers map it to OPA's message). */
export function div(a: Num, b: Num): Num {
  if (isZero(b)) throw new RangeError('divide by zero');
  if (bothExactInts(a, b)) {
    const x = big(a), y = big(b);
    if (x % y === 0n) return normBig(x / y);
  }
  return toFloat(a) / toFloat(b);
}

/** Remainder with the sign of the dividend (Go's big.Int Rem); integers only. */
export function rem(a: Num, b: Num): Num {
  if (isZero(b)) throw new RangeError('modulo by zero');
  if (typeof a === 'number' && typeof b === 'number') return a % b;
  return normBig(big(a) % big(b));
}

export function neg(a: Num): Num {
  if (typeof a === 'number') return a === 0 ? 0 : -a;
  if (typeof a === 'bigint') return normBig(-a);
  return new BigDec(-a.m, a.e);
}

export function abs(a: Num): Num {
  return cmpNum(a, 0) < 0 ? neg(a) : a;
}

export function isZero(a: Num): boolean {
  return typeof a === 'number' ? a === 0 : typeof a === 'bigint' ? a === 0n : a.m === 0n;
}

/** Rounds half away from zero (Go's math.Round, as OPA's round). */
export function round(a: Num): Num {
  if (isInteger(a)) return a;
  const f = toFloat(a);
  const r = Math.sign(f) * Math.round(Math.abs(f));
  return numFromJS(r === 0 ? 0 : r);
}

export function ceil(a: Num): Num {
  if (isInteger(a)) return a;
  const r = Math.ceil(toFloat(a));
  return r === 0 ? 0 : r;
}

export function floor(a: Num): Num {
  if (isInteger(a)) return a;
  return Math.floor(toFloat(a));
}

export function cmpNum(a: Num, b: Num): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (bothExactInts(a, b)) { const x = big(a), y = big(b); return x < y ? -1 : x > y ? 1 : 0; }
  const x = toDec(a), y = toDec(b);
  const e = Math.min(x.e, y.e);
  const xm = x.m * 10n ** BigInt(x.e - e), ym = y.m * 10n ** BigInt(y.e - e);
  return xm < ym ? -1 : xm > ym ? 1 : 0;
}

export function toBigInt(n: Num): bigint {
  if (!isInteger(n)) throw new RangeError(`not an integer: ${numToString(n)}`);
  return big(n);
}

export function toSafeInt(n: Num): number | undefined {
  if (typeof n === 'number') return Number.isSafeInteger(n) ? n : undefined;
  return undefined;
}

export function toFloat(n: Num): number {
  if (typeof n === 'number') return n;
  if (typeof n === 'bigint') return Number(n);
  return Number(`${n.m}e${n.e}`);
}

/** OPA's JSON text for a number: integers in full, other values in shortest round-trip form. */
export function numToString(n: Num): string {
  if (typeof n === 'bigint') return n.toString();
  if (n instanceof BigDec) {
    const neg = n.m < 0n;
    let digits = (neg ? -n.m : n.m).toString();
    const scale = -n.e;
    if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
    const s = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
    return neg ? `-${s}` : s;
  }
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n === 0 ? '0' : n.toFixed(0);
  const s = String(n);
  return s.replace(/e\+/, 'e+');
}

/** A number as a JS number when that is exact enough for JSON output, else as a bigint. */
export function numToJS(n: Num): number | bigint {
  if (typeof n === 'number') return n;
  if (typeof n === 'bigint') return n;
  return toFloat(n);
}
