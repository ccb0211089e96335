import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuiltinError } from '../src/builtins/registry.js';
import { call, ctx } from './builtins-b-helpers.js';

const NS = 1670006453141828752n;

test('time.parse_ns: Go layouts, named constants and the int64 range', () => {
  assert.equal(call('time.parse_ns', ['2006-01-02T15:04:05Z07:00', '2017-06-02T19:00:00-07:00']), 1496455200000000000n);
  assert.equal(call('time.parse_ns', ["01/02 03:04:05PM '06 -0700", "06/02 07:00:00PM '17 -0700"]), 1496455200000000000n);
  assert.equal(call('time.parse_ns', ['RFC822Z', '02 Jun 17 19:00 -0700']), 1496455200000000000n);
  assert.equal(call('time.parse_ns', ['2006-01-02T15:04:05Z07:00', '1677-09-21T00:12:43.145224192-00:00']), -(2n ** 63n));
  assert.throws(() => call('time.parse_ns', ['2006-01-02T15:04:05Z07:00', '2262-04-11T23:47:16.854775808-00:00']),
    (e: Error) => e instanceof BuiltinError && e.message === 'time outside of valid range');
  assert.throws(() => call('time.parse_ns', ['2006-01-02', '2020-02-30']), /day out of range/);
  assert.throws(() => call('time.parse_ns', ['2006-01-02', '2020/02/03']), /cannot parse "\/02\/03" as "-"/);
});

test('time.parse_rfc3339_ns and time.parse_duration_ns', () => {
  assert.equal(call('time.parse_rfc3339_ns', ['1970-01-01T00:00:00-00:00']), 0);
  assert.equal(call('time.parse_rfc3339_ns', ['2017-06-02T19:00:00.5Z']), 1496430000500000000n);
  assert.equal(call('time.parse_duration_ns', ['100ms']), 100000000);
  assert.equal(call('time.parse_duration_ns', ['-1.5h']), -5400000000000);
  assert.equal(call('time.parse_duration_ns', ['1h2m3.000000004s']), 3723000000004);
  assert.throws(() => call('time.parse_duration_ns', ['5x']), /unknown unit "x" in duration "5x"/);
});

test('time.date / clock / weekday honour IANA zones', () => {
  assert.deepEqual(call('time.date', [1517814000000000000n]), [2018, 2, 5]);
  assert.deepEqual(call('time.date', [[1517814000000000000n, 'America/Los_Angeles']]), [2018, 2, 4]);
  assert.deepEqual(call('time.clock', [[1517832000000000000n, 'America/New_York']]), [7, 0, 0]);
  assert.deepEqual(call('time.clock', [1582977600000000000n]), [12, 0, 0]);
  assert.equal(call('time.weekday', [1518350400000000000n]), 'Sunday');
  assert.throws(() => call('time.date', [15829776000000000000000n]), /timestamp too big/);
  assert.throws(() => call('time.date', [[1, 'Nowhere/Nothing']]), /unknown time zone Nowhere\/Nothing/);
});

test('time.format: RFC3339Nano by default, zones, layouts and named constants', () => {
  assert.equal(call('time.format', [NS]), '2022-12-02T18:40:53.141828752Z');
  assert.equal(call('time.format', [[NS, 'Asia/Kolkata']]), '2022-12-03T00:10:53.141828752+05:30');
  assert.equal(call('time.format', [[NS, 'Asia/Kolkata', 'Mon Jan 02 15:04:05 -0700 2006']]), 'Sat Dec 03 00:10:53 +0530 2022');
  assert.equal(call('time.format', [[NS, 'Asia/Kolkata', 'RFC1123Z']]), 'Sat, 03 Dec 2022 00:10:53 +0530');
  assert.equal(call('time.format', [[NS, 'America/New_York', 'RFC1123']]), 'Fri, 02 Dec 2022 13:40:53 EST');
  assert.equal(call('time.format', [[NS, 'UTC', '3:04PM .000 002 _2']]), '6:40PM .141 336  2');
});

test('time.add_date normalises like Go and checks the result range', () => {
  assert.equal(call('time.add_date', [1585852421593912000n, 3, 9, 12]), 1705257221593912000n);
  assert.equal(call('time.add_date', [1585852421593912000n, -1, -1, -1]), 1551465221593912000n);
  assert.throws(() => call('time.add_date', [0, 2262, 1, 1]), /time outside of valid range/);
  assert.throws(() => call('time.add_date', [0, 1.5, 1, 1]), /operand 2 must be integer number/);
});

test('time.diff counts calendar differences', () => {
  assert.deepEqual(call('time.diff', [61000000000n, 0]), [0, 0, 0, 0, 1, 1]);
  assert.deepEqual(call('time.diff', [[60000000000n, 'UTC'], [0, 'Asia/Shanghai']]), [0, 0, 0, 0, 1, 0]);
  const layout = '2006-01-02';
  const p = (s: string) => call('time.parse_ns', [layout, s]);
  assert.deepEqual(call('time.diff', [p('2020-02-02'), p('2020-03-01')]), [0, 0, 28, 0, 0, 0]);
  assert.deepEqual(call('time.diff', [p('2021-02-02'), p('2021-03-01')]), [0, 0, 27, 0, 0, 0]);
  assert.deepEqual(call('time.diff', [p('2004-02-29'), p('2005-03-01')]), [1, 0, 1, 0, 0, 0]);
});

test('time.now_ns is the query time from the context', () => {
  assert.equal(call('time.now_ns', [], ctx({ now: () => 42n })), 42);
});

test('zone offsets switch exactly at DST and historical (LMT) transitions', () => {
  const ns = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
  const ny = (iso: string) => call('time.clock', [[ns(iso), 'America/New_York']]);
  assert.deepEqual(ny('2021-03-14T06:59:59Z'), [1, 59, 59]);
  assert.deepEqual(ny('2021-03-14T07:00:00Z'), [3, 0, 0]);
  assert.deepEqual(ny('2021-11-07T05:59:59Z'), [1, 59, 59]);
  assert.deepEqual(ny('2021-11-07T06:00:00Z'), [1, 0, 0]);
  // New York local mean time (-4:56:02) until 1883-11-18 12:03:58 local
  assert.deepEqual(ny('1883-11-18T16:59:59Z'), [12, 3, 57]);
  assert.deepEqual(ny('1883-11-18T17:00:00Z'), [12, 0, 0]);
  assert.equal(call('time.add_date', [ns('2021-03-13T12:00:00Z'), 0, 0, 1]), ns('2021-03-14T12:00:00Z'));
});

test('time.format names zones as tzdata does (MST layout element)', () => {
  const winter = 1642248000000000000n; // 2022-01-15T12:00:00Z
  const summer = 1657886400000000000n; // 2022-07-15T12:00:00Z
  const name = (ns: bigint, zone: string) => call('time.format', [[ns, zone, 'MST']]);
  assert.equal(name(winter, 'Europe/Berlin'), 'CET');
  assert.equal(name(summer, 'Europe/Berlin'), 'CEST');
  assert.equal(name(summer, 'Europe/London'), 'BST');
  assert.equal(name(winter, 'Asia/Kolkata'), 'IST');
  assert.equal(name(winter, 'America/Sao_Paulo'), '-03');
  assert.equal(name(winter, 'UTC'), 'UTC');
});
