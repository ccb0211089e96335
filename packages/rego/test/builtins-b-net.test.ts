import assert from 'node:assert/strict';
import { test } from 'node:test';
import { valueToString } from '../src/value.js';
import { call } from './builtins-b-helpers.js';

const show = (name: string, ...args: unknown[]) => valueToString(call(name, args)!);

test('net.cidr_contains / cidr_intersects on IPv4 and IPv6', () => {
  assert.equal(call('net.cidr_contains', ['10.0.0.0/8', '10.1.2.3']), true);
  assert.equal(call('net.cidr_contains', ['10.0.0.0/8', '::ffff:10.1.1.1']), true);
  assert.equal(call('net.cidr_contains', ['10.0.0.0/8', '11.0.0.0/8']), false);
  assert.equal(call('net.cidr_contains', ['2001:4860:4860::8888/32', '2001:4860:4860:1234::8888/40']), true);
  assert.equal(call('net.cidr_contains', ['10.0.0.0/24', '10.0.0.0/16']), false);
  assert.throws(() => call('net.cidr_contains', ['10.0.0.0/8', 'x']), /not a valid textual representation/);
  assert.equal(call('net.cidr_intersects', ['fd1e:5bfe:8af3:9ddc::/64', 'fd1e:5bfe:8af3:9ddc:1111::/72']), true);
  assert.equal(call('net.cidr_intersects', ['192.168.1.0/24', '192.168.2.0/24']), false);
  assert.throws(() => call('net.cidr_intersects', ['not-a-cidr', '1.1.1.1/2']), /invalid CIDR address: not-a-cidr/);
});

test('net.cidr_contains_matches over strings, arrays, sets and objects', () => {
  assert.equal(show('net.cidr_contains_matches', '1.1.1.0/24', '1.1.1.1'), '{["1.1.1.0/24", "1.1.1.1"]}');
  assert.equal(show('net.cidr_contains_matches', [['1.1.2.0/24', 1], '1.1.1.0/24'], ['1.1.1.1', '1.1.2.1']), '{[0, 1], [1, 0]}');
  assert.equal(show('net.cidr_contains_matches', { k1: '1.1.1.1/24', k2: ['1.1.1.2/24', 1] }, '1.1.1.128'),
    '{["k1", "1.1.1.128"], ["k2", "1.1.1.128"]}');
  assert.throws(() => call('net.cidr_contains_matches', ['1.1.1.0/24', ['1.1.1.1', 1]]),
    /operand 2: element must be string or non-empty array/);
});

test('net.cidr_expand and net.cidr_is_valid', () => {
  assert.equal(show('net.cidr_expand', '192.168.1.1/30'), '{"192.168.1.0", "192.168.1.1", "192.168.1.2", "192.168.1.3"}');
  assert.equal(show('net.cidr_expand', '2001:db8::/127'), '{"2001:db8::", "2001:db8::1"}');
  assert.throws(() => call('net.cidr_expand', ['192.168.1.1/33']), /invalid CIDR address: 192.168.1.1\/33/);
  assert.equal(call('net.cidr_is_valid', ['2002::1234:abcd:ffff:c0a8:101/64']), true);
  assert.equal(call('net.cidr_is_valid', ['192.168.1.2']), false);
  assert.equal(call('net.cidr_is_valid', ['01.1.1.1/8']), false);
});

test('net.cidr_merge follows OPA (class masks for bare IPv4, range splitting)', () => {
  assert.equal(show('net.cidr_merge', ['192.0.2.112/30', '192.0.2.116/31', '192.0.2.118/31']), '{"192.0.2.112/29"}');
  assert.equal(show('net.cidr_merge', ['192.0.2.112/31', '192.0.2.116/31', '192.0.2.118/31']), '{"192.0.2.112/31", "192.0.2.116/30"}');
  assert.equal(show('net.cidr_merge', ['fe80::/120', '192.0.2.0/24', '192.0.3.0/24', '192.0.4.0/25', '192.0.4.128/25']),
    '{"192.0.2.0/23", "192.0.4.0/24", "fe80::/120"}');
  assert.equal(show('net.cidr_merge', ['192.0.2.112', '192.0.2.116/31']), '{"192.0.2.0/24"}');
  assert.equal(show('net.cidr_merge', ['::/0', '::192.0.2.0/124', 'ff00::101/128']), '{"::/0"}');
  assert.equal(show('net.cidr_merge', ['2601:600:8a80:207e:a57d:7567:e2c9:e7b3/64', '2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128']),
    '{"2601:600:8a80:207e::/64"}');
  assert.throws(() => call('net.cidr_merge', [['2601:600::1']]), /IPv6 invalid: needs prefix length/);
});
