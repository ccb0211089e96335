// Verification that runs in the reviewer's browser (and in Node for tests): RFC 9162 inclusion proofs,
// C2SP checkpoints and signed notes, and the approval key's verdict signatures — all with WebCrypto.

const subtle = globalThis.crypto.subtle;
const enc = new TextEncoder();

export function fromBase64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function sha256(bytes) {
  return new Uint8Array(await subtle.digest('SHA-256', bytes));
}

export const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));
const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

/** RFC 9162 §2.1.3.2: the root an inclusion proof leads to, or null when the proof has the wrong shape. */
export async function rootFromInclusionProof(index, size, leaf, proof) {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/** C2SP signed note: the signed text and its signature lines. */
export function parseNote(note) {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new Error('not a signed note');
  const text = note.slice(0, split + 1);
  const signatures = note
    .slice(split + 2)
    .split('\n')
    .filter((l) => l.startsWith('\u2014 '))
    .map((l) => {
      const [name, sig] = l.slice(2).split(' ');
      const bytes = fromBase64(sig);
      return { name, keyHash: toHex(bytes.slice(0, 4)), signature: bytes.slice(4) };
    });
  return { text, signatures };
}

export function parseCheckpoint(text) {
  const [origin, size, root] = text.split('\n');
  return { origin, size: Number(size), root: fromBase64(root) };
}

/** Checks a note's Ed25519 signature by the C2SP verifier key `name+hexhash+base64(0x01 || key)`. */
export async function verifyNoteSignature(note, vkey) {
  // The base64 key may itself contain '+': split off only the name and the key hash.
  const [name, hash] = vkey.split('+', 2);
  const raw = fromBase64(vkey.slice(name.length + hash.length + 2));
  if (raw[0] !== 0x01) return false;
  const { text, signatures } = parseNote(note);
  const sig = signatures.find((s) => s.name === name && s.keyHash === hash);
  if (!sig) return false;
  const publicKey = await subtle.importKey('raw', raw.slice(1), { name: 'Ed25519' }, false, ['verify']);
  return subtle.verify({ name: 'Ed25519' }, publicKey, sig.signature, enc.encode(text));
}

/** RFC 8785 canonical JSON for the values the gatekeeper signs (strings, integers, booleans, arrays, objects). */
export function canonicalJson(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  return `{${Object.keys(v)
    .filter((k) => v[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
    .join(',')}}`;
}

/** Checks an approval verdict's Ed25519 signature (SPKI PEM public key) over its canonical statement. */
export async function verifyVerdict(statement, signatureB64, publicKeyPem) {
  const der = fromBase64(publicKeyPem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''));
  const key = await subtle.importKey('spki', der, { name: 'Ed25519' }, false, ['verify']);
  return subtle.verify({ name: 'Ed25519' }, key, fromBase64(signatureB64), enc.encode(canonicalJson(statement)));
}

/**
 * Every check for one ledger entry, as a list of { label, ok, detail }: the entry is the canonical form of the
 * record, its leaf hash and proof lead to the checkpoint's root, the checkpoint is signed by the ledger key, the
 * payloads given as `e.payloads` ({ name: { bytes } }) match their committed digests, and a verdict's signature.
 */
export async function verifyEntry(e) {
  const checks = [];
  const entry = fromBase64(e.entry);
  const leaf = await leafHash(entry);
  checks.push({ label: 'Entry bytes are the canonical JSON of the record', ok: new TextDecoder().decode(entry) === canonicalJson(e.record), detail: `${entry.length} bytes` });
  checks.push({ label: 'Leaf hash computed in this browser (SHA-256)', ok: true, detail: toHex(leaf) });
  const checkpoint = parseCheckpoint(parseNote(e.checkpoint).text);
  const root = await rootFromInclusionProof(e.index, e.size, leaf, e.proof.map(fromBase64));
  checks.push({
    label: `Inclusion proof (${e.proof.length} hashes) leads to the checkpoint root`,
    ok: !!root && toHex(root) === toHex(checkpoint.root) && checkpoint.size === e.size,
    detail: `tree size ${checkpoint.size}, root ${toHex(checkpoint.root).slice(0, 16)}…`,
  });
  let signed = false;
  for (const k of e.keys) signed ||= await verifyNoteSignature(e.checkpoint, k).catch(() => false);
  checks.push({ label: 'Checkpoint signature verified (Ed25519)', ok: signed, detail: e.keys.map((k) => k.split('+')[0]).join(', ') || 'no key' });
  for (const [name, p] of Object.entries(e.payloads ?? {})) {
    const ok = p.bytes !== null && `sha256:${toHex(await sha256(p.bytes))}` === e.record.payloads?.[name];
    checks.push({ label: `Payload "${name}" matches the digest committed in the entry`, ok, detail: p.bytes ? `${p.bytes.length} bytes` : 'not available' });
  }
  const data = e.record.data;
  if (data && data.statement && data.signature && data.public_key) {
    const ok = await verifyVerdict(data.statement, data.signature, data.public_key).catch(() => false);
    checks.push({ label: `Verdict signed by the approval key (${data.statement.verdict})`, ok, detail: `key ${data.key_id ?? ''}` });
  }
  return checks;
}
