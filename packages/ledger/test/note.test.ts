import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosignNote, formatCheckpoint, generateCosignerKey, generateKey, noteText, signNote, verifierKeyOf, verifyNote } from '@oagf/ledger';
import { createHash } from 'node:crypto';

const text = formatCheckpoint('log.example/ledger', 42, createHash('sha256').update('x').digest());

test('keys follow the C2SP formats and ids', () => {
  const { skey, vkey } = generateKey('log.example/ledger');
  assert.match(skey, /^PRIVATE\+KEY\+log\.example\/ledger\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
  assert.match(vkey, /^log\.example\/ledger\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
  const [, , id, key] = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(vkey)!;
  const pub = Buffer.from(key!, 'base64');
  assert.equal(pub[0], 0x01);
  const expectedId = createHash('sha256').update(Buffer.concat([Buffer.from('log.example/ledger\n'), pub])).digest().subarray(0, 4).toString('hex');
  assert.equal(id, expectedId);
  assert.equal(verifierKeyOf(skey), vkey);
  assert.throws(() => generateKey('has space'), /key name/);
  assert.throws(() => generateKey('a+b'), /key name/);
});

test('sign and verify; several keys for rotation; unknown keys ignored', () => {
  const a = generateKey('log.example/ledger');
  const b = generateKey('log.example/ledger-2027');
  const stranger = generateKey('stranger.example');
  const note = signNote(text, [a.skey, b.skey]);
  assert.equal(noteText(note), text);
  assert.deepEqual(verifyNote(note, [a.vkey]), ['log.example/ledger']);
  assert.deepEqual(verifyNote(note, [a.vkey, b.vkey]).sort(), ['log.example/ledger', 'log.example/ledger-2027']);
  assert.deepEqual(verifyNote(note, [b.vkey, stranger.vkey]), ['log.example/ledger-2027']);
  assert.throws(() => verifyNote(note, [stranger.vkey]), /not signed by any known key/);
  // Same name, different key: the key ids differ, so the signature is ignored rather than failed.
  const impostor = generateKey('log.example/ledger');
  assert.throws(() => verifyNote(note, [impostor.vkey]), /not signed by any known key/);
});

test('any change to the text or signature is rejected', () => {
  const { skey, vkey } = generateKey('log.example/ledger');
  const note = signNote(text, skey);
  assert.throws(() => verifyNote(note.replace('42', '43'), [vkey]), /does not verify/);
  const sigStart = note.lastIndexOf(' ') + 1;
  const flipped = note.slice(0, sigStart + 10) + (note[sigStart + 10] === 'A' ? 'B' : 'A') + note.slice(sigStart + 11);
  assert.throws(() => verifyNote(flipped, [vkey]), /does not verify|malformed/);
});

test('malformed notes and keys throw with a reason', () => {
  const { skey, vkey } = generateKey('log.example/ledger');
  const note = signNote(text, skey);
  assert.throws(() => verifyNote(text, [vkey]), /no blank line/);
  assert.throws(() => verifyNote(note.slice(0, -1), [vkey]), /must end with a newline/);
  assert.throws(() => verifyNote(note.replace('\u2014', '-'), [vkey]), /bad signature line/);
  assert.throws(() => verifyNote(note.replace('log.example/ledger\n42', 'log.example/ledger\t\n42'), [vkey]), /control character/);
  assert.throws(() => verifyNote(`${text}\n\u2014 x AAAA\n`, [vkey]), /not base64 of a key id/);
  assert.throws(() => signNote('no newline', skey), /end with a newline/);
  assert.throws(() => verifyNote(note, ['garbage']), /malformed verifier key/);
  assert.throws(() => verifyNote(note, [vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')]), /does not match the key/);
  assert.throws(() => signNote(text, 'PRIVATE+KEY+x'), /malformed signing key/);
});

test('witness cosignatures (tlog-cosignature, type 0x04) verify and bind the timestamp', () => {
  const log = generateKey('log.example/ledger');
  const witness = generateCosignerKey('witness.example/w1');
  const cosigned = cosignNote(signNote(text, log.skey), witness.skey, 1_700_000_000);
  assert.deepEqual(verifyNote(cosigned, [log.vkey, witness.vkey]).sort(), ['log.example/ledger', 'witness.example/w1']);
  assert.deepEqual(verifyNote(cosigned, [witness.vkey]), ['witness.example/w1']);
  const line = cosigned.trimEnd().split('\n').at(-1)!;
  const sig = Buffer.from(line.split(' ')[2]!, 'base64');
  assert.equal(sig.length, 4 + 8 + 64);
  assert.equal(sig.readBigUInt64BE(4), 1_700_000_000n);
  sig.writeBigUInt64BE(1_700_000_001n, 4);
  const retimed = cosigned.replace(line.split(' ')[2]!, sig.toString('base64'));
  assert.throws(() => verifyNote(retimed, [witness.vkey]), /does not verify/);
  assert.throws(() => cosignNote(cosigned, log.skey), /not a cosigner/);
  assert.throws(() => signNote(text, witness.skey), /cosigner key/);
});
