// Go's `time` package semantics (layouts, Parse, Format, Date normalisation,
// ParseDuration) over exact bigint nanoseconds. OPA's time.* builtins are thin
// wrappers around Go's time package, so matching OPA means matching Go.

export class GoTimeError extends Error {}

const NS_PER_SEC = 1_000_000_000n;
export const MIN_NS = -(2n ** 63n);
export const MAX_NS = 2n ** 63n - 1n;

const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const SHORT_DAYS = LONG_DAYS.map((d) => d.slice(0, 3));
const LONG_MONTHS = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
];
const SHORT_MONTHS = LONG_MONTHS.map((m) => m.slice(0, 3));

/** Go's predefined layout constants, as OPA exposes them by name. */
export const NAMED_LAYOUTS: Record<string, string> = {
  ANSIC: "Mon Jan _2 15:04:05 2006",
  UnixDate: "Mon Jan _2 15:04:05 MST 2006",
  RubyDate: "Mon Jan 02 15:04:05 -0700 2006",
  RFC822: "02 Jan 06 15:04 MST",
  RFC822Z: "02 Jan 06 15:04 -0700",
  RFC850: "Monday, 02-Jan-06 15:04:05 MST",
  RFC1123: "Mon, 02 Jan 2006 15:04:05 MST",
  RFC1123Z: "Mon, 02 Jan 2006 15:04:05 -0700",
  RFC3339: "2006-01-02T15:04:05Z07:00",
  RFC3339Nano: "2006-01-02T15:04:05.999999999Z07:00",
};
export const RFC3339 = NAMED_LAYOUTS.RFC3339!;
export const RFC3339_NANO = NAMED_LAYOUTS.RFC3339Nano!;

// ---------------------------------------------------------------------------
// Civil calendar arithmetic (proleptic Gregorian, like Go).

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}
function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

export function daysIn(month: number, year: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** Days since 1970-01-01 of the civil date (month 1..12). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = floorDiv(yy, 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = floorDiv(153 * mp + 2, 5) + d - 1;
  const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z: number): { year: number; month: number; day: number } {
  const zz = z + 719468;
  const era = floorDiv(zz, 146097);
  const doe = zz - era * 146097;
  const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365);
  const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100));
  const mp = floorDiv(5 * doy + 2, 153);
  const day = doy - floorDiv(153 * mp + 2, 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: era * 400 + yoe + (month <= 2 ? 1 : 0), month, day };
}

// ---------------------------------------------------------------------------
// Time zones. Go loads IANA tzdata; we ask Intl, which carries the same data.

export interface Zone {
  readonly name: string;
  /** Offset east of UTC in seconds, and the zone abbreviation, at the given instant. */
  lookup(unixSec: number): { offset: number; abbr: string };
}

export const UTC: Zone = { name: "UTC", lookup: () => ({ offset: 0, abbr: "UTC" }) };

const MAX_JS_MS = 8.64e15;

// Offsets are constant within a 15-minute bucket unless a transition falls inside it
// (transitions before 1900 can land on any second), so buckets whose two ends agree are cached.
const BUCKET_SECONDS = 900;
const MAX_CACHED_BUCKETS = 50_000;

class IntlZone implements Zone {
  private readonly fmt: Intl.DateTimeFormat;
  private abbrFmts: Intl.DateTimeFormat[] | undefined;
  private readonly buckets = new Map<number, number>();
  constructor(readonly name: string) {
    this.fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: name, hourCycle: "h23", era: "short",
      year: "numeric", month: "numeric", day: "numeric",
      hour: "numeric", minute: "numeric", second: "numeric",
    });
  }

  /** The zone's abbreviation at an instant, as close to tzdata's (and so Go's) as Intl can say it. */
  abbreviation(date: Date, offset: number): string {
    this.abbrFmts ??= ABBREVIATION_LOCALES.map((l) => new Intl.DateTimeFormat(l, { timeZone: this.name, timeZoneName: "short" }));
    for (const fmt of this.abbrFmts) {
      const name = fmt.formatToParts(date).find((p) => p.type === "timeZoneName")?.value ?? "";
      if (name !== "" && !/^GMT[+-]/.test(name) && (name !== "GMT" || offset === 0)) return name;
    }
    return numericAbbreviation(offset);
  }

  private offsetAt(unixSec: number): number {
    const ms = Math.max(-MAX_JS_MS, Math.min(MAX_JS_MS, unixSec * 1000));
    const parts: Record<string, string> = {};
    for (const p of this.fmt.formatToParts(new Date(ms))) parts[p.type] = p.value;
    let year = Number(parts.year);
    if (parts.era === "BC" || parts.era === "B") year = 1 - year;
    const local =
      daysFromCivil(year, Number(parts.month), Number(parts.day)) * 86400 +
      Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second);
    return local - Math.floor(ms / 1000);
  }

  private cachedOffset(unixSec: number): number {
    const bucket = Math.floor(unixSec / BUCKET_SECONDS);
    const hit = this.buckets.get(bucket);
    if (hit !== undefined) return hit;
    const start = this.offsetAt(bucket * BUCKET_SECONDS);
    if (start !== this.offsetAt(bucket * BUCKET_SECONDS + BUCKET_SECONDS - 1)) return this.offsetAt(unixSec);
    if (this.buckets.size >= MAX_CACHED_BUCKETS) this.buckets.clear();
    this.buckets.set(bucket, start);
    return start;
  }

  lookup(unixSec: number): { offset: number; abbr: string } {
    const offset = this.cachedOffset(unixSec);
    // The abbreviation costs more Intl calls and only time.format needs it.
    const zone = this;
    return {
      offset,
      get abbr() {
        return zone.abbreviation(new Date(Math.max(-MAX_JS_MS, Math.min(MAX_JS_MS, unixSec * 1000))), offset);
      },
    };
  }
}

// Intl only names a zone's abbreviation in locales where it is in common use (CET in en-GB, IST in
// en-IN, ...); tzdata names them all. Zones with no abbreviation are spelled like tzdata: "+0530".
const ABBREVIATION_LOCALES = ["en-US", "en-GB", "en-AU", "en-IN", "en-ZA", "ja-JP"];

function numericAbbreviation(offset: number): string {
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 3600)).padStart(2, "0");
  const mm = Math.floor((abs % 3600) / 60);
  return mm === 0 ? `${sign}${hh}` : `${sign}${hh}${String(mm).padStart(2, "0")}`;
}

const zoneCache = new Map<string, Zone>();

/** time.LoadLocation, with OPA's special names "" / "UTC" / "Local". */
export function loadZone(name: string): Zone {
  if (name === "" || name === "UTC") return UTC;
  const key = name === "Local" ? (Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC") : name;
  let zone = zoneCache.get(key);
  if (!zone) {
    try {
      zone = key === "UTC" || key === "Etc/UTC" ? UTC : new IntlZone(key);
    } catch {
      throw new GoTimeError(`unknown time zone ${name}`);
    }
    zoneCache.set(key, zone);
  }
  return zone;
}

// ---------------------------------------------------------------------------
// Instants and wall-clock views of them.

interface Wall {
  year: number; month: number; day: number;
  hour: number; minute: number; second: number; nanos: number;
  weekday: number; yday: number;
  offset: number; abbr: string;
}

function splitNs(ns: bigint): { sec: number; nanos: number } {
  let sec = ns / NS_PER_SEC;
  let rem = ns % NS_PER_SEC;
  if (rem < 0n) { rem += NS_PER_SEC; sec -= 1n; }
  return { sec: Number(sec), nanos: Number(rem) };
}

export function wallClock(ns: bigint, zone: Zone): Wall {
  const { sec, nanos } = splitNs(ns);
  const z = zone.lookup(sec);
  const offset = z.offset;
  const local = sec + offset;
  const days = floorDiv(local, 86400);
  const secOfDay = local - days * 86400;
  const { year, month, day } = civilFromDays(days);
  return {
    year, month, day,
    hour: floorDiv(secOfDay, 3600), minute: floorDiv(secOfDay % 3600, 60), second: secOfDay % 60,
    nanos, weekday: mod(days + 4, 7), yday: days - daysFromCivil(year, 1, 1) + 1,
    offset,
    get abbr() {
      return z.abbr;
    },
  };
}

export function weekdayName(w: number): string {
  return LONG_DAYS[w]!;
}

/** Go's time.Date: normalises out-of-range fields, then resolves the zone offset. */
export function goDate(
  year: number, month: number, day: number,
  hour: number, minute: number, second: number, nanos: number, zone: Zone,
): bigint {
  let m = month - 1;
  year += floorDiv(m, 12);
  m = mod(m, 12);
  second += floorDiv(nanos, 1e9);
  nanos = mod(nanos, 1e9);
  minute += floorDiv(second, 60);
  second = mod(second, 60);
  hour += floorDiv(minute, 60);
  minute = mod(minute, 60);
  day += floorDiv(hour, 24);
  hour = mod(hour, 24);
  const days = daysFromCivil(year, m + 1, 1) + day - 1;
  let unix = days * 86400 + hour * 3600 + minute * 60 + second;
  if (!Number.isSafeInteger(unix)) throw new GoTimeError("time outside of valid range");
  // As Go does: guess the offset at the wall time read as UTC, then correct it
  // when the guess lands on the other side of a zone transition.
  const guess = zone.lookup(unix).offset;
  if (guess !== 0) {
    const again = zone.lookup(unix - guess).offset;
    unix -= again;
  }
  return BigInt(unix) * NS_PER_SEC + BigInt(nanos);
}

export function checkNsRange(ns: bigint): bigint {
  if (ns < MIN_NS || ns > MAX_NS) throw new GoTimeError("time outside of valid range");
  return ns;
}

// ---------------------------------------------------------------------------
// Layout chunks (port of Go's nextStdChunk).

const enum Std {
  None, LongMonth, Month, NumMonth, ZeroMonth, LongWeekDay, WeekDay, Day, UnderDay, ZeroDay,
  UnderYearDay, ZeroYearDay, Hour, Hour12, ZeroHour12, Minute, ZeroMinute, Second, ZeroSecond,
  LongYear, Year, PM, pm, TZ,
  ISO8601TZ, ISO8601SecondsTZ, ISO8601ShortTZ, ISO8601ColonTZ, ISO8601ColonSecondsTZ,
  NumTZ, NumSecondsTZ, NumShortTZ, NumColonTZ, NumColonSecondsTZ,
  FracSecond0, FracSecond9,
}

interface Chunk { prefix: string; std: Std; stdStr: string; suffix: string; digits: number; sep: string }

const STD_0X = [Std.ZeroMonth, Std.ZeroDay, Std.ZeroHour12, Std.ZeroMinute, Std.ZeroSecond, Std.Year];

function startsWithLower(s: string): boolean {
  return s.length > 0 && s[0]! >= "a" && s[0]! <= "z";
}
function isDigitAt(s: string, i: number): boolean {
  return i < s.length && s[i]! >= "0" && s[i]! <= "9";
}

function nextStdChunk(layout: string): Chunk {
  const at = (i: number, std: Std, len: number, digits = 0, sep = "."): Chunk => ({
    prefix: layout.slice(0, i), std, stdStr: layout.slice(i, i + len), suffix: layout.slice(i + len), digits, sep,
  });
  const has = (i: number, s: string) => layout.startsWith(s, i);
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i]!;
    switch (c) {
      case "J":
        if (has(i, "Jan")) {
          if (has(i, "January")) return at(i, Std.LongMonth, 7);
          if (!startsWithLower(layout.slice(i + 3))) return at(i, Std.Month, 3);
        }
        break;
      case "M":
        if (has(i, "Mon")) {
          if (has(i, "Monday")) return at(i, Std.LongWeekDay, 6);
          if (!startsWithLower(layout.slice(i + 3))) return at(i, Std.WeekDay, 3);
        }
        if (has(i, "MST")) return at(i, Std.TZ, 3);
        break;
      case "0": {
        const n = layout[i + 1];
        if (n !== undefined && n >= "1" && n <= "6") return at(i, STD_0X[n.charCodeAt(0) - 49]!, 2);
        if (has(i, "002")) return at(i, Std.ZeroYearDay, 3);
        break;
      }
      case "1":
        if (layout[i + 1] === "5") return at(i, Std.Hour, 2);
        return at(i, Std.NumMonth, 1);
      case "2":
        if (has(i, "2006")) return at(i, Std.LongYear, 4);
        return at(i, Std.Day, 1);
      case "_":
        if (layout[i + 1] === "2") {
          if (has(i + 1, "2006")) {
            return { prefix: layout.slice(0, i + 1), std: Std.LongYear, stdStr: "2006", suffix: layout.slice(i + 5), digits: 0, sep: "." };
          }
          return at(i, Std.UnderDay, 2);
        }
        if (has(i, "__2")) return at(i, Std.UnderYearDay, 3);
        break;
      case "3": return at(i, Std.Hour12, 1);
      case "4": return at(i, Std.Minute, 1);
      case "5": return at(i, Std.Second, 1);
      case "P":
        if (layout[i + 1] === "M") return at(i, Std.PM, 2);
        break;
      case "p":
        if (layout[i + 1] === "m") return at(i, Std.pm, 2);
        break;
      case "-":
        if (has(i, "-070000")) return at(i, Std.NumSecondsTZ, 7);
        if (has(i, "-07:00:00")) return at(i, Std.NumColonSecondsTZ, 9);
        if (has(i, "-0700")) return at(i, Std.NumTZ, 5);
        if (has(i, "-07:00")) return at(i, Std.NumColonTZ, 6);
        if (has(i, "-07")) return at(i, Std.NumShortTZ, 3);
        break;
      case "Z":
        if (has(i, "Z070000")) return at(i, Std.ISO8601SecondsTZ, 7);
        if (has(i, "Z07:00:00")) return at(i, Std.ISO8601ColonSecondsTZ, 9);
        if (has(i, "Z0700")) return at(i, Std.ISO8601TZ, 5);
        if (has(i, "Z07:00")) return at(i, Std.ISO8601ColonTZ, 6);
        if (has(i, "Z07")) return at(i, Std.ISO8601ShortTZ, 3);
        break;
      case ".":
      case ",": {
        const ch = layout[i + 1];
        if (ch === "0" || ch === "9") {
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) {
            return at(i, ch === "0" ? Std.FracSecond0 : Std.FracSecond9, j - i, j - (i + 1), c);
          }
        }
        break;
      }
    }
  }
  return { prefix: layout, std: Std.None, stdStr: "", suffix: "", digits: 0, sep: "." };
}

function isISOTZ(std: Std): boolean {
  return std >= Std.ISO8601TZ && std <= Std.ISO8601ColonSecondsTZ;
}

// ---------------------------------------------------------------------------
// Format.

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, "0");
  return n < 0 ? "-" + s : s;
}

export function goFormat(ns: bigint, zone: Zone, layout: string): string {
  const w = wallClock(ns, zone);
  let out = "";
  let rest = layout;
  while (rest !== "") {
    const ch = nextStdChunk(rest);
    out += ch.prefix;
    if (ch.std === Std.None) break;
    rest = ch.suffix;
    switch (ch.std) {
      case Std.Year: out += pad(Math.abs(w.year) % 100, 2); break;
      case Std.LongYear: out += pad(w.year, 4); break;
      case Std.Month: out += SHORT_MONTHS[w.month - 1]; break;
      case Std.LongMonth: out += LONG_MONTHS[w.month - 1]; break;
      case Std.NumMonth: out += String(w.month); break;
      case Std.ZeroMonth: out += pad(w.month, 2); break;
      case Std.WeekDay: out += SHORT_DAYS[w.weekday]; break;
      case Std.LongWeekDay: out += LONG_DAYS[w.weekday]; break;
      case Std.Day: out += String(w.day); break;
      case Std.UnderDay: out += (w.day < 10 ? " " : "") + String(w.day); break;
      case Std.ZeroDay: out += pad(w.day, 2); break;
      case Std.UnderYearDay: out += (w.yday < 100 ? (w.yday < 10 ? "  " : " ") : "") + String(w.yday); break;
      case Std.ZeroYearDay: out += pad(w.yday, 3); break;
      case Std.Hour: out += pad(w.hour, 2); break;
      case Std.Hour12: out += String(w.hour % 12 === 0 ? 12 : w.hour % 12); break;
      case Std.ZeroHour12: out += pad(w.hour % 12 === 0 ? 12 : w.hour % 12, 2); break;
      case Std.Minute: out += String(w.minute); break;
      case Std.ZeroMinute: out += pad(w.minute, 2); break;
      case Std.Second: out += String(w.second); break;
      case Std.ZeroSecond: out += pad(w.second, 2); break;
      case Std.PM: out += w.hour >= 12 ? "PM" : "AM"; break;
      case Std.pm: out += w.hour >= 12 ? "pm" : "am"; break;
      case Std.TZ:
        if (w.abbr !== "") out += w.abbr;
        else out += formatOffset(w.offset, false, true, false);
        break;
      case Std.FracSecond0:
      case Std.FracSecond9:
        out += formatFraction(w.nanos, ch.digits, ch.sep, ch.std === Std.FracSecond9);
        break;
      default: {
        // Numeric and ISO 8601 offsets.
        if (w.offset === 0 && isISOTZ(ch.std)) { out += "Z"; break; }
        const colon = [Std.ISO8601ColonTZ, Std.NumColonTZ, Std.ISO8601ColonSecondsTZ, Std.NumColonSecondsTZ].includes(ch.std);
        const short = ch.std === Std.NumShortTZ || ch.std === Std.ISO8601ShortTZ;
        const seconds = [Std.ISO8601SecondsTZ, Std.NumSecondsTZ, Std.NumColonSecondsTZ, Std.ISO8601ColonSecondsTZ].includes(ch.std);
        out += formatOffset(w.offset, colon, !short, seconds);
      }
    }
  }
  return out;
}

function formatOffset(offset: number, colon: boolean, minutes: boolean, seconds: boolean): string {
  let zone = Math.trunc(offset / 60);
  let abs = offset;
  let s = "+";
  if (zone < 0) { s = "-"; zone = -zone; abs = -abs; }
  s += pad(Math.floor(zone / 60), 2);
  if (colon) s += ":";
  if (minutes) s += pad(zone % 60, 2);
  if (seconds) s += (colon ? ":" : "") + pad(abs % 60, 2);
  return s;
}

function formatFraction(nanos: number, digits: number, sep: string, trim: boolean): string {
  if (trim && (digits === 0 || nanos === 0)) return "";
  let s = String(nanos).padStart(9, "0");
  if (digits < 9) s = s.slice(0, digits);
  if (trim) s = s.replace(/0+$/, "");
  return s === "" && trim ? "" : sep + s;
}

// ---------------------------------------------------------------------------
// Parse.

function goQuote(s: string): string {
  return JSON.stringify(s);
}

function parseError(layout: string, value: string, elem: string, valueElem: string, message = ""): GoTimeError {
  if (message === "") {
    return new GoTimeError(
      `parsing time ${goQuote(value)} as ${goQuote(layout)}: cannot parse ${goQuote(valueElem)} as ${goQuote(elem)}`,
    );
  }
  return new GoTimeError(`parsing time ${goQuote(value)}${message}`);
}

class Bad extends Error {}

function getnum(s: string, fixed: boolean): [number, string] {
  if (!isDigitAt(s, 0)) throw new Bad();
  if (!isDigitAt(s, 1)) {
    if (fixed) throw new Bad();
    return [s.charCodeAt(0) - 48, s.slice(1)];
  }
  return [(s.charCodeAt(0) - 48) * 10 + (s.charCodeAt(1) - 48), s.slice(2)];
}

function getnum3(s: string, fixed: boolean): [number, string] {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigitAt(s, i); i++) n = n * 10 + (s.charCodeAt(i) - 48);
  if (i === 0 || (fixed && i !== 3)) throw new Bad();
  return [n, s.slice(i)];
}

function atoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Bad();
  return Number(s);
}

function lookupName(tab: string[], val: string): [number, string] {
  for (let i = 0; i < tab.length; i++) {
    const v = tab[i]!;
    if (val.length >= v.length && val.slice(0, v.length).toLowerCase() === v.toLowerCase()) {
      return [i, val.slice(v.length)];
    }
  }
  throw new Bad();
}

function skipPrefix(value: string, prefix: string): string {
  while (prefix.length > 0) {
    if (prefix[0] === " ") {
      if (value.length > 0 && value[0] !== " ") throw new Bad();
      prefix = prefix.replace(/^ +/, "");
      value = value.replace(/^ +/, "");
      continue;
    }
    if (value.length === 0 || value[0] !== prefix[0]) throw new Bad();
    prefix = prefix.slice(1);
    value = value.slice(1);
  }
  return value;
}

function parseNanoseconds(value: string, nbytes: number): number {
  if (value[0] !== "." && value[0] !== ",") throw new Bad();
  if (nbytes > 10) nbytes = 10;
  let ns = atoi(value.slice(1, nbytes));
  for (let i = 0; i < 10 - nbytes; i++) ns *= 10;
  return ns;
}

function parseSignedOffset(value: string): number {
  if (value[0] !== "-" && value[0] !== "+") return 0;
  const m = /^[0-9]+/.exec(value.slice(1));
  if (!m || Number(m[0]) > 23) return 0;
  return 1 + m[0].length;
}

function parseTimeZone(value: string): number {
  if (value.length < 3) return 0;
  if (value.startsWith("ChST") || value.startsWith("MeST")) return 4;
  if (value.startsWith("GMT")) return 3 + (value.length > 3 ? parseSignedOffset(value.slice(3)) : 0);
  if (value[0] === "+" || value[0] === "-") return parseSignedOffset(value);
  let n = 0;
  while (n < 6 && n < value.length && value[n]! >= "A" && value[n]! <= "Z") n++;
  if (n === 5 && value[4] === "T") return 5;
  if (n === 4 && (value[3] === "T" || value.startsWith("WITA"))) return 4;
  if (n === 3) return 3;
  return 0;
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** Go's parseRFC3339 fast path; undefined sends the value through the general parser. */
function parseRFC3339Fast(value: string): bigint | undefined {
  const m = RFC3339_RE.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, min, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysIn(month!, year!) || hour! > 23 || min! > 59 || sec! > 59) return undefined;
  const nanos = m[7] ? Number(m[7].slice(0, 9).padEnd(9, '0')) : 0;
  let t = goDate(year!, month!, day!, hour!, min!, sec!, nanos, UTC);
  if (m[8]) {
    const [hh, mm] = [Number(m[9]), Number(m[10])];
    if (hh > 23 || mm > 59) return undefined;
    const offset = (hh * 60 + mm) * 60 * (m[8] === '-' ? -1 : 1);
    t -= BigInt(offset) * NS_PER_SEC;
  }
  return t;
}

/** Go's time.Parse (with Local = UTC, as in a container): nanoseconds since the epoch. */
export function goParse(layout: string, value: string): bigint {
  if (layout === RFC3339 || layout === RFC3339_NANO) {
    const fast = parseRFC3339Fast(value);
    if (fast !== undefined) return fast;
  }
  const aLayout = layout;
  const aValue = value;
  let amSet = false;
  let pmSet = false;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let utc = false;
  let zoneOffset: number | undefined;
  let zoneName = "";

  for (;;) {
    const ch = nextStdChunk(layout);
    try {
      value = skipPrefix(value, ch.prefix);
    } catch {
      throw parseError(aLayout, aValue, ch.prefix, value);
    }
    if (ch.std === Std.None) {
      if (value.length !== 0) throw parseError(aLayout, aValue, "", value, `: extra text: ${goQuote(value)}`);
      break;
    }
    layout = ch.suffix;
    const hold = value;
    let rangeErr = "";
    try {
      switch (ch.std) {
        case Std.Year: {
          if (value.length < 2) throw new Bad();
          year = atoi(value.slice(0, 2));
          value = value.slice(2);
          year += year >= 69 ? 1900 : 2000;
          break;
        }
        case Std.LongYear:
          if (value.length < 4 || !isDigitAt(value, 0)) throw new Bad();
          year = atoi(value.slice(0, 4));
          value = value.slice(4);
          break;
        case Std.Month:
          [month, value] = lookupName(SHORT_MONTHS, value);
          month++;
          break;
        case Std.LongMonth:
          [month, value] = lookupName(LONG_MONTHS, value);
          month++;
          break;
        case Std.NumMonth:
        case Std.ZeroMonth:
          [month, value] = getnum(value, ch.std === Std.ZeroMonth);
          if (month <= 0 || month > 12) rangeErr = "month";
          break;
        case Std.WeekDay:
          [, value] = lookupName(SHORT_DAYS, value);
          break;
        case Std.LongWeekDay:
          [, value] = lookupName(LONG_DAYS, value);
          break;
        case Std.Day:
        case Std.UnderDay:
        case Std.ZeroDay:
          if (ch.std === Std.UnderDay && value[0] === " ") value = value.slice(1);
          [day, value] = getnum(value, ch.std === Std.ZeroDay);
          break;
        case Std.UnderYearDay:
        case Std.ZeroYearDay:
          for (let i = 0; i < 2; i++) if (ch.std === Std.UnderYearDay && value[0] === " ") value = value.slice(1);
          [yday, value] = getnum3(value, ch.std === Std.ZeroYearDay);
          break;
        case Std.Hour:
          [hour, value] = getnum(value, false);
          if (hour >= 24) rangeErr = "hour";
          break;
        case Std.Hour12:
        case Std.ZeroHour12:
          [hour, value] = getnum(value, ch.std === Std.ZeroHour12);
          if (hour > 12) rangeErr = "hour";
          break;
        case Std.Minute:
        case Std.ZeroMinute:
          [min, value] = getnum(value, ch.std === Std.ZeroMinute);
          if (min >= 60) rangeErr = "minute";
          break;
        case Std.Second:
        case Std.ZeroSecond: {
          [sec, value] = getnum(value, ch.std === Std.ZeroSecond);
          if (sec >= 60) { rangeErr = "second"; break; }
          if (value.length >= 2 && (value[0] === "." || value[0] === ",") && isDigitAt(value, 1)) {
            const next = nextStdChunk(layout).std;
            if (next === Std.FracSecond0 || next === Std.FracSecond9) break;
            let n = 2;
            while (n < value.length && isDigitAt(value, n)) n++;
            nsec = parseNanoseconds(value, n);
            value = value.slice(n);
          }
          break;
        }
        case Std.PM:
        case Std.pm: {
          if (value.length < 2) throw new Bad();
          const p = value.slice(0, 2);
          value = value.slice(2);
          const [pmStr, amStr] = ch.std === Std.PM ? ["PM", "AM"] : ["pm", "am"];
          if (p === pmStr) pmSet = true;
          else if (p === amStr) amSet = true;
          else throw new Bad();
          break;
        }
        case Std.TZ: {
          if (value.startsWith("UTC")) { utc = true; value = value.slice(3); break; }
          const n = parseTimeZone(value);
          if (n === 0) throw new Bad();
          zoneName = value.slice(0, n);
          value = value.slice(n);
          break;
        }
        case Std.FracSecond0: {
          const ndigit = 1 + ch.digits;
          if (value.length < ndigit) throw new Bad();
          nsec = parseNanoseconds(value, ndigit);
          value = value.slice(ndigit);
          break;
        }
        case Std.FracSecond9: {
          if (value.length < 2 || (value[0] !== "." && value[0] !== ",") || !isDigitAt(value, 1)) break;
          let i = 0;
          while (i + 1 < value.length && isDigitAt(value, i + 1)) i++;
          nsec = parseNanoseconds(value, 1 + i);
          value = value.slice(1 + i);
          break;
        }
        default: {
          if (isISOTZ(ch.std) && value[0] === "Z") { value = value.slice(1); utc = true; break; }
          let sign: string, hh: string, mm: string, ss: string;
          if (ch.std === Std.ISO8601ColonTZ || ch.std === Std.NumColonTZ) {
            if (value.length < 6 || value[3] !== ":") throw new Bad();
            [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), value.slice(4, 6), "00", value.slice(6)];
          } else if (ch.std === Std.NumShortTZ || ch.std === Std.ISO8601ShortTZ) {
            if (value.length < 3) throw new Bad();
            [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), "00", "00", value.slice(3)];
          } else if (ch.std === Std.ISO8601ColonSecondsTZ || ch.std === Std.NumColonSecondsTZ) {
            if (value.length < 9 || value[3] !== ":" || value[6] !== ":") throw new Bad();
            [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), value.slice(4, 6), value.slice(7, 9), value.slice(9)];
          } else if (ch.std === Std.ISO8601SecondsTZ || ch.std === Std.NumSecondsTZ) {
            if (value.length < 7) throw new Bad();
            [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), value.slice(3, 5), value.slice(5, 7), value.slice(7)];
          } else {
            if (value.length < 5) throw new Bad();
            [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), value.slice(3, 5), "00", value.slice(5)];
          }
          const [h] = getnum(hh, true);
          const [m] = getnum(mm, true);
          const [s] = getnum(ss, true);
          if (h > 24) rangeErr = "time zone offset hour";
          if (m > 60) rangeErr = "time zone offset minute";
          if (s > 60) rangeErr = "time zone offset second";
          let off = (h * 60 + m) * 60 + s;
          if (sign === "-") off = -off;
          else if (sign !== "+") throw new Bad();
          zoneOffset = off;
        }
      }
    } catch (e) {
      if (!(e instanceof Bad)) throw e;
      throw parseError(aLayout, aValue, ch.stdStr, hold);
    }
    if (rangeErr !== "") throw parseError(aLayout, aValue, ch.stdStr, value, `: ${rangeErr} out of range`);
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;

  if (yday >= 0) {
    let d = 0;
    let m = 0;
    if (isLeap(year)) {
      if (yday === 31 + 29) { m = 2; d = 29; } else if (yday > 31 + 29) yday--;
    }
    if (yday < 1 || yday > 365) throw parseError(aLayout, aValue, "", value, ": day-of-year out of range");
    if (m === 0) {
      const before = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
      m = Math.floor((yday - 1) / 31) + 1;
      if (before[m]! < yday) m++;
      d = yday - before[m - 1]!;
    }
    if (month >= 0 && month !== m) throw parseError(aLayout, aValue, "", value, ": day-of-year does not match month");
    month = m;
    if (day >= 0 && day !== d) throw parseError(aLayout, aValue, "", value, ": day-of-year does not match day");
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) throw parseError(aLayout, aValue, "", value, ": day out of range");

  let t = goDate(year, month, day, hour, min, sec, nsec, UTC);
  if (!utc) {
    if (zoneOffset !== undefined) t -= BigInt(zoneOffset) * NS_PER_SEC;
    else if (zoneName.length > 3 && zoneName.startsWith("GMT")) t -= BigInt(Number(zoneName.slice(3)) * 3600) * NS_PER_SEC;
  }
  return t;
}

// ---------------------------------------------------------------------------
// Durations.

const UNIT_NS: Record<string, bigint> = {
  ns: 1n, us: 1000n, "µs": 1000n, "μs": 1000n, ms: 1_000_000n, s: NS_PER_SEC, m: 60n * NS_PER_SEC, h: 3600n * NS_PER_SEC,
};
const U63 = 1n << 63n;

/** Go's time.ParseDuration. */
export function goParseDuration(orig: string): bigint {
  const invalid = () => new GoTimeError(`time: invalid duration ${goQuote(orig)}`);
  let s = orig;
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) { neg = s[0] === "-"; s = s.slice(1); }
  if (s === "0") return 0n;
  if (s === "") throw invalid();
  let d = 0n;
  while (s !== "") {
    if (!(s[0] === "." || isDigitAt(s, 0))) throw invalid();
    const intMatch = /^[0-9]*/.exec(s)![0];
    let v = intMatch === "" ? 0n : BigInt(intMatch);
    if (v > U63) throw invalid();
    s = s.slice(intMatch.length);
    const pre = intMatch.length > 0;
    let post = false;
    let f = 0n;
    let scale = 1;
    if (s[0] === ".") {
      s = s.slice(1);
      const frac = /^[0-9]*/.exec(s)![0];
      post = frac.length > 0;
      // Go keeps accumulating digits until the value would overflow, then ignores the rest.
      let overflow = false;
      for (const c of frac) {
        if (overflow) continue;
        if (f > (U63 - 1n) / 10n) { overflow = true; continue; }
        const y = f * 10n + BigInt(c.charCodeAt(0) - 48);
        if (y > U63) { overflow = true; continue; }
        f = y;
        scale *= 10;
      }
      s = s.slice(frac.length);
    }
    if (!pre && !post) throw invalid();
    let i = 0;
    while (i < s.length && !(s[i] === "." || isDigitAt(s, i))) i++;
    if (i === 0) throw new GoTimeError(`time: missing unit in duration ${goQuote(orig)}`);
    const u = s.slice(0, i);
    s = s.slice(i);
    const unit = UNIT_NS[u];
    if (unit === undefined) throw new GoTimeError(`time: unknown unit ${goQuote(u)} in duration ${goQuote(orig)}`);
    if (v > U63 / unit) throw invalid();
    v *= unit;
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > U63) throw invalid();
    }
    d += v;
    if (d > U63) throw invalid();
  }
  if (neg) return -d;
  if (d > U63 - 1n) throw invalid();
  return d;
}
