/** time.* builtins (OPA topdown/time.go) over exact bigint nanoseconds. */
import { isInteger, numFromJS, toBigInt } from '../num.js';
import { isArray, isNum, type Value } from '../value.js';
import {
  GoTimeError, MAX_NS, MIN_NS, NAMED_LAYOUTS, RFC3339, RFC3339_NANO, checkNsRange, daysIn, goDate, goFormat,
  goParse, goParseDuration, loadZone, UTC, wallClock, weekdayName, type Zone,
} from './go/time.js';
import { int, str, typeErr } from './operands.js';
import { BuiltinError, type BuiltinDef, type BuiltinTable } from './registry.js';

const NS_OR_TZ = 'number|array[any]';
const MAX_SLEEP_MS = 1000;

interface TzTime { ns: bigint; zone: Zone; layout: string }

/** OPA's tzTime: a number of ns, or [ns, tz] / [ns, tz, layout]. */
function tzTime(v: Value): TzTime {
  let nv: Value;
  let zone = UTC;
  let layout = '';
  if (isArray(v)) {
    if (v.length === 0) throw typeErr(1, v, 'either number (ns) or [number (ns), string (tz)]');
    nv = v[0]!;
    if (!isNum(nv)) throw typeErr(1, nv, 'number');
    if (v.length > 1) zone = goCall(() => loadZone(str(v[1]!, 1)));
    if (v.length > 2) layout = str(v[2]!, 1);
  } else if (isNum(v)) {
    nv = v;
  } else {
    throw typeErr(1, v, 'either number (ns) or [number (ns), string (tz)]');
  }
  if (!isNum(nv) || !isInteger(nv)) throw new BuiltinError('timestamp too big');
  const ns = toBigInt(nv);
  if (ns < MIN_NS || ns > MAX_NS) throw new BuiltinError('timestamp too big');
  return { ns, zone, layout };
}

function goCall<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof GoTimeError) throw new BuiltinError(e.message);
    throw e;
  }
}

const nsValue = (ns: bigint): Value => numFromJS(ns);

function def(name: string, args: string[], result: string, fn: BuiltinDef['fn'], nondeterministic = false): BuiltinDef {
  return { name, args, result, fn, ...(nondeterministic ? { nondeterministic } : {}) };
}

/** time.diff, as OPA does it (icza/gox): calendar difference normalised field by field. */
function diff(a: TzTime, b: TzTime): number[] {
  let [t1, t2] = [a.ns, b.ns];
  const zone = a.zone;
  if (t1 > t2) [t1, t2] = [t2, t1];
  const w1 = wallClock(t1, zone);
  const w2 = wallClock(t2, zone);
  let year = w2.year - w1.year;
  let month = w2.month - w1.month;
  let day = w2.day - w1.day;
  let hour = w2.hour - w1.hour;
  let min = w2.minute - w1.minute;
  let sec = w2.second - w1.second;
  if (sec < 0) { sec += 60; min--; }
  if (min < 0) { min += 60; hour--; }
  if (hour < 0) { hour += 24; day--; }
  if (day < 0) { day += daysIn(w1.month, w1.year); month--; }
  if (month < 0) { month += 12; year--; }
  return [year, month, day, hour, min, sec];
}

const table: BuiltinDef[] = [
  def('time.now_ns', [], 'number', (_args, ctx) => nsValue(ctx.now()), true),
  def('time.parse_ns', ['string', 'string'], 'number', ([layout, value]) => {
    const l = layout as string;
    return nsValue(goCall(() => checkNsRange(goParse(NAMED_LAYOUTS[l] ?? l, value as string))));
  }),
  def('time.parse_rfc3339_ns', ['string'], 'number', ([value]) =>
    nsValue(goCall(() => checkNsRange(goParse(RFC3339, value as string))))),
  def('time.parse_duration_ns', ['string'], 'number', ([d]) => nsValue(goCall(() => goParseDuration(d as string)))),
  def('time.format', [NS_OR_TZ], 'string', ([x]) => {
    const t = tzTime(x!);
    const layout = t.layout === '' ? RFC3339_NANO : (NAMED_LAYOUTS[t.layout] ?? t.layout);
    return goCall(() => goFormat(t.ns, t.zone, layout));
  }),
  def('time.date', [NS_OR_TZ], 'array[number]', ([x]) => {
    const t = tzTime(x!);
    const w = goCall(() => wallClock(t.ns, t.zone));
    return [w.year, w.month, w.day];
  }),
  def('time.clock', [NS_OR_TZ], 'array[number]', ([x]) => {
    const t = tzTime(x!);
    const w = goCall(() => wallClock(t.ns, t.zone));
    return [w.hour, w.minute, w.second];
  }),
  def('time.weekday', [NS_OR_TZ], 'string', ([x]) => {
    const t = tzTime(x!);
    return weekdayName(goCall(() => wallClock(t.ns, t.zone)).weekday);
  }),
  def('time.add_date', ['number', 'number', 'number', 'number'], 'number', ([x, y, m, d]) => {
    const t = tzTime(x!);
    const years = int(y!, 2);
    const months = int(m!, 3);
    const days = int(d!, 4);
    return nsValue(goCall(() => {
      const w = wallClock(t.ns, t.zone);
      const ns = goDate(w.year + years, w.month + months, w.day + days, w.hour, w.minute, w.second, w.nanos, t.zone);
      return checkNsRange(ns);
    }));
  }),
  def('time.diff', [NS_OR_TZ, NS_OR_TZ], 'array[number]', ([a, b]) => goCall(() => diff(tzTime(a!), tzTime(b!)))),
  // OPA's test helper. It blocks the (synchronous) evaluator, so it is capped to keep a gateway responsive.
  def('test.sleep', ['string'], 'null', ([d]) => {
    const ns = goCall(() => goParseDuration(d as string));
    const ms = Math.min(Number(ns / 1_000_000n), MAX_SLEEP_MS);
    if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    return null;
  }),
];

export const builtins: BuiltinTable = Object.fromEntries(table.map((b) => [b.name, b]));
