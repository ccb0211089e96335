import { canonicalJson } from './canonical-json.js';

/** One ledger entry; its RFC 8785 canonical JSON is the leaf data. Schema: spec/ledger/record.schema.json. */
export interface LedgerRecord {
  v: 1;
  type: string;
  id: string;
  time: string;
  agent?: string;
  action_digest?: string;
  outcome?: 'allow' | 'deny' | 'escalate';
  reasons?: string[];
  policy_digest?: string;
  links?: { rel: string; id: string; index?: number }[];
  payloads?: Record<string, string>;
  data?: Record<string, unknown>;
}

/** Entry bundles (C2SP tlog-tiles) prefix each entry with a uint16 length. */
export const MAX_ENTRY_BYTES = 65535;

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const FIELDS = new Set(['v', 'type', 'id', 'time', 'agent', 'action_digest', 'outcome', 'reasons', 'policy_digest', 'links', 'payloads', 'data']);
const OUTCOMES = new Set(['allow', 'deny', 'escalate']);
const LINK_FIELDS = new Set(['rel', 'id', 'index']);

function fail(message: string): never {
  throw new TypeError(`invalid ledger record: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkString(value: unknown, field: string, max: number): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) fail(`${field} must be a non-empty string of at most ${max} characters`);
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/** The decimal number in text[start, start + length), all digits (TIME has matched). */
function digits(text: string, start: number, length: number): number {
  let n = 0;
  for (let i = start; i < start + length; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

/** No Feb 30, no 24:00, no leap second: checked by arithmetic, as a Date round trip costs a microsecond per append. */
function isRealInstant(time: string): boolean {
  const month = digits(time, 5, 2);
  const day = digits(time, 8, 2);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(digits(time, 0, 4), month) &&
    digits(time, 11, 2) <= 23 && digits(time, 14, 2) <= 59 && digits(time, 17, 2) <= 59;
}

function checkTime(value: unknown): void {
  if (typeof value !== 'string' || !TIME.test(value) || !isRealInstant(value)) {
    fail(`time must be RFC 3339 UTC with milliseconds, e.g. 2026-01-31T12:00:00.000Z (got ${JSON.stringify(value)})`);
  }
}

function checkLinks(value: unknown): void {
  if (!Array.isArray(value)) fail('links must be an array');
  value.forEach((link, i) => {
    if (!isPlainObject(link)) fail(`links[${i}] must be an object`);
    for (const key of Object.keys(link)) if (!LINK_FIELDS.has(key)) fail(`links[${i}] has unknown field ${key}`);
    checkString(link.rel, `links[${i}].rel`, 128);
    checkString(link.id, `links[${i}].id`, 256);
    if (link.index !== undefined && !(Number.isSafeInteger(link.index) && (link.index as number) >= 0)) {
      fail(`links[${i}].index must be a non-negative integer`);
    }
  });
}

/** Checks a record against the schema; throws a TypeError naming the first bad field. */
export function validateRecord(record: unknown): asserts record is LedgerRecord {
  if (!isPlainObject(record)) fail('not an object');
  for (const key of Object.keys(record)) if (!FIELDS.has(key)) fail(`unknown field ${key}`);
  if (record.v !== 1) fail('v must be 1');
  if (typeof record.type !== 'string' || !TYPE.test(record.type) || record.type.length > 128) {
    fail(`type must be a dotted lowercase name such as 'decision' or 'approval.granted' (got ${JSON.stringify(record.type)})`);
  }
  checkString(record.id, 'id', 256);
  checkTime(record.time);
  if (record.agent !== undefined) checkString(record.agent, 'agent', 256);
  if (record.action_digest !== undefined && (typeof record.action_digest !== 'string' || !DIGEST.test(record.action_digest))) {
    fail('action_digest must be sha256:<64 lowercase hex>');
  }
  if (record.outcome !== undefined && !OUTCOMES.has(record.outcome as string)) fail('outcome must be allow, deny or escalate');
  if (record.reasons !== undefined && !(Array.isArray(record.reasons) && record.reasons.every((r) => typeof r === 'string'))) {
    fail('reasons must be an array of strings');
  }
  if (record.policy_digest !== undefined) checkString(record.policy_digest, 'policy_digest', 256);
  if (record.links !== undefined) checkLinks(record.links);
  if (record.payloads !== undefined) {
    if (!isPlainObject(record.payloads)) fail('payloads must be an object');
    for (const name of Object.keys(record.payloads)) {
      const digest = record.payloads[name];
      if (typeof digest !== 'string' || !DIGEST.test(digest)) fail(`payloads.${name} must be sha256:<64 lowercase hex>`);
    }
  }
  if (record.data !== undefined && !isPlainObject(record.data)) fail('data must be an object');
}

function hasUndefinedField(record: object): boolean {
  for (const key in record) if ((record as Record<string, unknown>)[key] === undefined) return true;
  return false;
}

/** Drops top-level fields set to undefined (TypeScript optional fields), then validates. */
export function normalizeRecord(record: object): LedgerRecord {
  const copy = hasUndefinedField(record) ? Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) : record;
  validateRecord(copy);
  return copy;
}

/** The leaf data: the record's canonical JSON as UTF-8, at most MAX_ENTRY_BYTES. */
export function encodeRecord(record: LedgerRecord): Buffer {
  const entry = Buffer.from(canonicalJson(record));
  if (entry.length > MAX_ENTRY_BYTES) {
    throw new RangeError(`ledger record ${record.id} is ${entry.length} bytes; the limit is ${MAX_ENTRY_BYTES} (put large content in payloads)`);
  }
  return entry;
}

export function decodeRecord(entry: Uint8Array): LedgerRecord {
  const record: unknown = JSON.parse(Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength).toString('utf8'));
  validateRecord(record);
  return record;
}
