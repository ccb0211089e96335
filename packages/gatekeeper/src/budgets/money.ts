/**
 * Money is kept as integer micro-units (1 unit = 1_000_000 micros) in bigint, so
 * sums and comparisons against caps are exact. Decimals appear only at the edges:
 * parsing configuration and actions, and formatting for people.
 */
export const MICROS_PER_UNIT = 1_000_000n;

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

export type Rounding = 'exact' | 'up';

/**
 * Parses "12.34", 12.34 or 12n into micros. With rounding 'exact' a value with more
 * than six decimals is an error; with 'up' it is rounded towards +infinity (used for
 * amounts we reserve, so rounding never lets spend slip under a cap).
 */
export function toMicros(value: string | number | bigint, what: string, rounding: Rounding = 'exact'): bigint {
  if (typeof value === 'bigint') return value * MICROS_PER_UNIT;
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`${what}: ${value} is not a finite amount`);
  }
  // A JS number prints as the shortest decimal that reads back as the same double,
  // which is the literal the user wrote for any amount with up to 15 significant digits.
  const text = typeof value === 'number' ? numberToPlainDecimal(value) : value.trim();
  const m = DECIMAL.exec(text);
  if (!m) throw new Error(`${what}: "${text}" is not a decimal amount (expected e.g. 12.34)`);
  const [, sign, whole, frac = ''] = m;
  let fracDigits = frac;
  let roundUp = false;
  if (frac.length > 6) {
    if (rounding === 'exact') throw new Error(`${what}: "${text}" has more than 6 decimal places`);
    fracDigits = frac.slice(0, 6);
    roundUp = /[1-9]/.test(frac.slice(6));
  }
  let micros = BigInt(whole) * MICROS_PER_UNIT + BigInt(fracDigits.padEnd(6, '0'));
  if (sign === '-') micros = -micros;
  if (roundUp && sign !== '-') micros += 1n;
  return micros;
}

function numberToPlainDecimal(n: number): string {
  const s = String(n);
  if (!/e/i.test(s)) return s;
  // Exponent forms (1e-7, 1e21) are expanded so the decimal parser sees plain digits.
  return n.toFixed(20).replace(/\.?0+$/, '');
}

/** Formats micros as a decimal with at least two places: 1500000n → "1.50". */
export function formatMicros(micros: bigint): string {
  const neg = micros < 0n;
  const abs = neg ? -micros : micros;
  const whole = abs / MICROS_PER_UNIT;
  let frac = (abs % MICROS_PER_UNIT).toString().padStart(6, '0').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  return `${neg ? '-' : ''}${whole}.${frac}`;
}

/** ceil(a / b) for non-negative bigints. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
