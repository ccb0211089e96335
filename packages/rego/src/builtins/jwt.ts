/** io.jwt.* builtins (OPA topdown/tokens.go) on node:crypto: JWS compact tokens, PEM and JWK(S) keys. */
import {
  constants, createHmac, createPrivateKey, createPublicKey, sign as cryptoSign, timingSafeEqual,
  verify as cryptoVerify, X509Certificate, type KeyObject,
} from 'node:crypto';
import { cmpNum, numFromJS, toFloat } from '../num.js';
import { isArray, isNum, isObject, makeObject, type RObject, type Value } from '../value.js';
import { base64RawUrlEncode, base64UrlDecodeLenient, GoDecodeError } from './go/base64.js';
import { GO_MAX_DEPTH, isValidJSON, JSONSyntaxError, marshal, parseJSON } from './go/json.js';
import { BuiltinError, type BuiltinContext, type BuiltinDef, type BuiltinTable } from './registry.js';
import { decodePEM } from './go/pem.js';

// token parts go through Go's json.Unmarshal, nesting bound included
const GO_JSON = { maxDepth: GO_MAX_DEPTH };

interface Token { header: string; payload: string; signature: string }

function decodeJWT(s: string): Token {
  if (!s.includes('.')) throw new BuiltinError('encoded JWT had no period separators');
  const parts = s.split('.');
  if (parts.length !== 3) throw new BuiltinError(`encoded JWT must have 3 sections, found ${parts.length}`);
  return { header: parts[0]!, payload: parts[1]!, signature: parts[2]! };
}

function b64url(s: string, what?: string): Buffer {
  try {
    return base64UrlDecodeLenient(s);
  } catch (e) {
    if (e instanceof GoDecodeError) throw new BuiltinError(what ? `JWT ${what} had invalid encoding: ${e.message}` : e.message);
    throw e;
  }
}

function jsonObject(s: string): RObject {
  let v: Value;
  try {
    v = parseJSON(s, GO_JSON);
  } catch (e) {
    if (e instanceof JSONSyntaxError) throw new BuiltinError(`invalid JSON: ${e.message}`);
    throw e;
  }
  if (!isObject(v)) throw new BuiltinError('decoded JSON type was not an Object');
  return v;
}

function decodeHeader(t: Token): RObject {
  const text = b64url(t.header, 'header').toString('utf8');
  let header: RObject;
  try {
    header = jsonObject(text);
  } catch (e) {
    throw new BuiltinError(`bad JWT header: ${(e as Error).message}`);
  }
  if (header.has('enc')) throw new BuiltinError('JWT is a JWE object, which is not supported');
  return header;
}

function jwtDecode(s: string): Value {
  const t = decodeJWT(s);
  const header = decodeHeader(t);
  let payload = b64url(t.payload, 'payload').toString('utf8');
  if (header.get('cty') === 'JWT') {
    payload = payload.replace(/^["']+|["']+$/g, '');
    return jwtDecode(payload);
  }
  const claims = jsonObject(payload);
  const sig = b64url(t.signature, 'signature').toString('hex');
  return [header, claims, sig];
}

// --- keys -------------------------------------------------------------------------------

type Key = KeyObject | Buffer;
interface VerificationKey { key: Key; alg: string; kid: string }

const ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'EdDSA']);

function jwkToKey(jwk: RObject, forSigning: boolean): Key {
  const json = JSON.parse(marshal(jwk)) as Record<string, unknown>;
  const kty = json.kty;
  if (kty === 'oct') {
    if (typeof json.k !== 'string') throw new Error('required field k is missing');
    return Buffer.from(json.k, 'base64url');
  }
  if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') throw new Error(`invalid key type from JSON (${String(kty)})`);
  const input = { key: json as import('node:crypto').JsonWebKey, format: 'jwk' as const };
  return forSigning && json.d !== undefined ? createPrivateKey(input) : createPublicKey(input);
}

/** The key set of a JWK or a JWKS ({"keys": [...]}). */
function parseJWKSet(text: string, forSigning: boolean): { key: Key; alg: string; kid: string }[] {
  const v = parseJSON(text, GO_JSON);
  if (!isObject(v)) throw new Error('invalid JWK set');
  const keys = v.get('keys');
  const list = isArray(keys ?? null) ? (keys as Value[]) : [v];
  return list.map((k) => {
    if (!isObject(k)) throw new Error('invalid JWK');
    const alg = k.get('alg');
    const kid = k.get('kid');
    return { key: jwkToKey(k, forSigning), alg: typeof alg === 'string' ? alg : '', kid: typeof kid === 'string' ? kid : '' };
  });
}

// Policies verify many tokens against the same few keys: keep parsed keys (immutable KeyObjects).
const keyCache = new Map<string, VerificationKey[]>();
const MAX_CACHED_KEYS = 1000;

function keysFromCertOrJWK(text: string): VerificationKey[] {
  const hit = keyCache.get(text);
  if (hit) return hit;
  const keys = parseKeys(text);
  if (keyCache.size >= MAX_CACHED_KEYS) keyCache.clear();
  keyCache.set(text, keys);
  return keys;
}

/** OPA's getKeysFromCertOrJWK. */
function parseKeys(text: string): VerificationKey[] {
  const pem = decodePEM(text);
  if (pem) {
    if (pem.rest.length > 0) throw new BuiltinError('extra data after a PEM certificate block');
    if (pem.type === 'CERTIFICATE') {
      try {
        return [{ key: new X509Certificate(pem.bytes).publicKey, alg: '', kid: '' }];
      } catch {
        throw new BuiltinError('failed to parse a PEM certificate: x509: malformed certificate');
      }
    }
    if (pem.type === 'PUBLIC KEY') {
      try {
        return [{ key: createPublicKey({ key: pem.bytes, format: 'der', type: 'spki' }), alg: '', kid: '' }];
      } catch (e) {
        throw new BuiltinError(`failed to parse a PEM public key: ${(e as Error).message}`);
      }
    }
    throw new BuiltinError('failed to extract a Key from the PEM certificate');
  }
  try {
    return parseJWKSet(text, false);
  } catch (e) {
    throw new BuiltinError(`failed to parse a JWK key (set): ${(e as Error).message}`);
  }
}

// --- signature algorithms -----------------------------------------------------------------

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

class KeyTypeError extends Error {
  constructor() {
    super('incorrect public key type');
  }
}

function asymmetric(key: Key, type: string[]): KeyObject {
  if (Buffer.isBuffer(key) || !type.includes(key.asymmetricKeyType ?? '')) throw new KeyTypeError();
  return key;
}

/** Go's ECDSA verify splits the signature in halves, whatever the curve size. */
function p1363(sig: Buffer, key: KeyObject): Buffer | undefined {
  const curveSizes: Record<string, number> = { prime256v1: 32, secp384r1: 48, secp521r1: 66 };
  const size = curveSizes[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (size === undefined) return undefined;
  const half = Math.floor(sig.length / 2);
  const fit = (b: Buffer) => {
    let x = b;
    while (x.length > size && x[0] === 0) x = x.subarray(1);
    if (x.length > size) return undefined;
    return Buffer.concat([Buffer.alloc(size - x.length), x]);
  };
  const r = fit(sig.subarray(0, half));
  const s = fit(sig.subarray(half));
  return r && s ? Buffer.concat([r, s]) : undefined;
}

/** Verifies `sig` over `data` with the algorithm `alg`; throws KeyTypeError for a key of the wrong kind. */
function verifyWith(alg: string, key: Key, data: Buffer, sig: Buffer): boolean {
  const family = alg.slice(0, 2);
  const hash = HASH[alg.slice(2)]!;
  switch (family) {
    case 'HS': {
      if (!Buffer.isBuffer(key)) throw new KeyTypeError();
      const mac = createHmac(hash, key).update(data).digest();
      return mac.length === sig.length && timingSafeEqual(mac, sig);
    }
    case 'RS':
      return cryptoVerify(hash, data, { key: asymmetric(key, ['rsa']), padding: constants.RSA_PKCS1_PADDING }, sig);
    case 'PS':
      return cryptoVerify(hash, data, {
        key: asymmetric(key, ['rsa', 'rsa-pss']), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO,
      }, sig);
    case 'ES': {
      const k = asymmetric(key, ['ec']);
      const s = p1363(sig, k);
      return s !== undefined && cryptoVerify(hash, data, { key: k, dsaEncoding: 'ieee-p1363' }, s);
    }
    default: // EdDSA
      return cryptoVerify(null, data, asymmetric(key, ['ed25519']), sig);
  }
}

function safeVerify(alg: string, key: Key, data: Buffer, sig: Buffer): boolean {
  try {
    return verifyWith(alg, key, data, sig);
  } catch {
    return false;
  }
}

function signWith(alg: string, key: Key, data: Buffer): Buffer {
  if (alg === 'none') return Buffer.alloc(0);
  if (!ALGORITHMS.has(alg)) throw new BuiltinError('failed to create signer: unsupported signature algorithm');
  const family = alg.slice(0, 2);
  const hash = HASH[alg.slice(2)]!;
  try {
    switch (family) {
      case 'HS':
        if (!Buffer.isBuffer(key)) throw new KeyTypeError();
        return createHmac(hash, key).update(data).digest();
      case 'RS':
        return cryptoSign(hash, data, { key: asymmetric(key, ['rsa']), padding: constants.RSA_PKCS1_PADDING });
      case 'PS':
        return cryptoSign(hash, data, {
          key: asymmetric(key, ['rsa', 'rsa-pss']), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        });
      case 'ES':
        return cryptoSign(hash, data, { key: asymmetric(key, ['ec']), dsaEncoding: 'ieee-p1363' });
      default:
        return cryptoSign(null, data, asymmetric(key, ['ed25519']));
    }
  } catch (e) {
    throw new BuiltinError(`failed to sign payload: ${(e as Error).message}`);
  }
}

// --- io.jwt.verify_* ------------------------------------------------------------------------

function headerString(header: RObject, name: string): string {
  const v = header.get(name);
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new BuiltinError(`${name}: must be a string`);
  return v;
}

function jwtVerify(alg: string, jwt: string, keyText: string): boolean {
  const t = decodeJWT(jwt);
  const keys = keysFromCertOrJWK(keyText);
  const sig = b64url(t.signature);
  const header = decodeHeader(t);
  const hAlg = headerString(header, 'alg');
  const kid = headerString(header, 'kid');
  const data = Buffer.from(`${t.header}.${t.payload}`);
  if (kid !== '') {
    const k = keys.find((x) => x.kid === kid);
    if (k) return safeVerify(alg, k.key, data, sig);
  }
  return keys.some((k) => (k.alg === '' || k.alg === hAlg) && safeVerify(alg, k.key, data, sig));
}

function hmacVerify(alg: string, jwt: string, secret: string): boolean {
  const t = decodeJWT(jwt);
  const sig = b64url(t.signature);
  return verifyWith(alg, Buffer.from(secret), Buffer.from(`${t.header}.${t.payload}`), sig);
}

// --- io.jwt.decode_verify -------------------------------------------------------------------

interface Constraints { secret: string; alg: string; iss: string; aud: string; keys?: VerificationKey[]; time: number }

function timeFromValue(v: Value): number {
  if (!isNum(v)) throw new BuiltinError('token time constraint: must be a number');
  const f = toFloat(v);
  if (!Number.isFinite(f)) throw new BuiltinError('token time constraint: unvalid float64');
  if (f < 0) throw new BuiltinError('token time constraint: must not be negative');
  return f;
}

function parseConstraints(o: RObject, now: bigint): Constraints {
  const c: Constraints = { secret: '', alg: '', iss: '', aud: '', time: -1 };
  for (const [k, v] of o.entries()) {
    const name = k as string;
    switch (name) {
      case 'cert':
        if (typeof v !== 'string') throw new BuiltinError('cert constraint: must be a string');
        c.keys = keysFromCertOrJWK(v);
        break;
      case 'secret': case 'alg': case 'iss': case 'aud':
        if (typeof v !== 'string') throw new BuiltinError(`${name} constraint: must be a string`);
        c[name] = v;
        break;
      case 'time':
        c.time = timeFromValue(v);
        break;
      default:
        throw new BuiltinError(`unknown token validation constraint: ${name}`);
    }
  }
  if (c.time === -1) c.time = Number(now);
  const keyCount = (c.keys ? 1 : 0) + (c.secret !== '' ? 1 : 0);
  if (keyCount > 1) throw new BuiltinError('duplicate key constraints');
  if (keyCount < 1) throw new BuiltinError('no key constraint');
  return c;
}

function parseHeaderFields(header: RObject): { alg: string; kid: string; cty: string; valid: boolean } {
  let crit: Set<string> | undefined;
  const unknown: string[] = [];
  const fields = { alg: '', kid: '', typ: '', cty: '' };
  for (const [k, v] of header.entries()) {
    const name = k as string;
    if (name in fields) {
      if (typeof v !== 'string') throw new BuiltinError(`${name}: must be a string`);
      fields[name as keyof typeof fields] = v;
    } else if (name === 'crit') {
      if (!isArray(v)) throw new BuiltinError('crit: must be a list');
      crit = new Set(v.filter((x): x is string => typeof x === 'string'));
      if (crit.size === 0) throw new BuiltinError('crit: must be a nonempty list');
    } else {
      unknown.push(name);
    }
  }
  const valid = fields.alg !== '' && !unknown.some((u) => crit?.has(u));
  return { alg: fields.alg, kid: fields.kid, cty: fields.cty, valid };
}

const NOT_VERIFIED = Symbol('not verified');

function verifyConstraints(c: Constraints, kid: string, alg: string, t: Token, sig: Buffer): void {
  if (!ALGORITHMS.has(alg)) throw new BuiltinError(`unknown JWS algorithm: ${alg}`);
  const data = Buffer.from(`${t.header}.${t.payload}`);
  if (c.keys) {
    if (kid !== '') {
      const k = c.keys.find((x) => x.kid === kid);
      if (k) {
        if (!safeVerify(alg, k.key, data, sig)) throw NOT_VERIFIED;
        return;
      }
    }
    if (!c.keys.some((k) => (k.alg === '' || k.alg === alg) && safeVerify(alg, k.key, data, sig))) throw NOT_VERIFIED;
    return;
  }
  let ok: boolean;
  try {
    ok = verifyWith(alg, Buffer.from(c.secret), data, sig);
  } catch (e) {
    throw new BuiltinError((e as Error).message);
  }
  if (!ok) throw NOT_VERIFIED;
}

function validAudience(aud: Value, want: string): boolean {
  if (typeof aud === 'string') return aud === want;
  return isArray(aud) && aud.some((x) => x === want);
}

function decodeVerify(jwt: string, constraintsObj: RObject, ctx: BuiltinContext): Value {
  const unverified: Value = [false, makeObject([]), makeObject([])];
  const c = parseConstraints(constraintsObj, ctx.now());
  let current = jwt;
  let t: Token;
  let header: RObject;
  let payloadText: string;
  for (;;) {
    t = decodeJWT(current);
    header = decodeHeader(t);
    const h = parseHeaderFields(header);
    if (!h.valid) return unverified;
    if (c.alg !== '' && c.alg !== h.alg) return unverified;
    const sig = b64url(t.signature);
    try {
      verifyConstraints(c, h.kid, h.alg, t, sig);
    } catch (e) {
      if (e === NOT_VERIFIED) return unverified;
      throw e;
    }
    payloadText = b64url(t.payload, 'payload').toString('utf8');
    if (h.cty.toUpperCase() === 'JWT') {
      current = payloadText;
      continue;
    }
    break;
  }
  const payload = jsonObject(payloadText);
  if (c.iss !== '') {
    const iss = payload.get('iss');
    if (iss === undefined || iss !== c.iss) return unverified;
  }
  const aud = payload.get('aud');
  if (aud !== undefined) {
    if (!validAudience(aud, c.aud)) return unverified;
  } else if (c.aud !== '') {
    return unverified;
  }
  const nowSeconds = numFromJS(c.time / 1e9);
  const exp = payload.get('exp');
  if (exp !== undefined) {
    if (!isNum(exp)) throw new BuiltinError('exp value must be a number');
    if (cmpNum(nowSeconds, exp) !== -1) return unverified;
  }
  const nbf = payload.get('nbf');
  if (nbf !== undefined) {
    if (!isNum(nbf)) throw new BuiltinError('nbf value must be a number');
    if (cmpNum(nowSeconds, nbf) === -1) return unverified;
  }
  return [true, header, payload];
}

// --- io.jwt.encode_sign* ----------------------------------------------------------------------

function encodeSign(headerText: string, payloadText: string, jwkText: string): string {
  let keys;
  try {
    keys = parseJWKSet(jwkText, true);
  } catch (e) {
    throw new BuiltinError(`failed to parse JWK: ${(e as Error).message}`);
  }
  if (keys.length === 0) throw new BuiltinError('no keys found in JWK set');
  let headers: Value;
  try {
    headers = parseJSON(headerText, GO_JSON);
  } catch (e) {
    throw new BuiltinError((e as Error).message);
  }
  const field = (name: string) => (isObject(headers) ? headers.get(name) : undefined);
  const alg = field('alg');
  if (alg !== undefined && alg !== 'none' && (typeof alg !== 'string' || !ALGORITHMS.has(alg))) {
    throw new BuiltinError('unknown signature algorithm');
  }
  const typ = field('typ');
  if ((typ === undefined || typ === '' || typ === 'JWT') && !isValidJSON(payloadText, GO_JSON)) {
    throw new BuiltinError('type is JWT but payload is not JSON');
  }
  const input = `${base64RawUrlEncode(headerText)}.${base64RawUrlEncode(payloadText)}`;
  const sig = signWith(typeof alg === 'string' ? alg : '', keys[0]!.key, Buffer.from(input));
  return `${input}.${base64RawUrlEncode(sig)}`;
}

// --- table ------------------------------------------------------------------------------

const TOKEN_OUT = 'array[any]';

function verifier(alg: string): BuiltinDef {
  const name = `io.jwt.verify_${alg.toLowerCase()}`;
  const fn: BuiltinDef['fn'] = alg.startsWith('HS')
    ? ([jwt, secret]) => hmacVerify(alg, jwt as string, secret as string)
    : ([jwt, key]) => jwtVerify(alg, jwt as string, key as string);
  return { name, args: ['string', 'string'], result: 'boolean', fn };
}

const table: BuiltinDef[] = [
  { name: 'io.jwt.decode', args: ['string'], result: TOKEN_OUT, fn: ([s]) => jwtDecode(s as string) },
  ...['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'].map(verifier),
  { name: 'io.jwt.decode_verify', args: ['string', 'object[string:any]'], result: TOKEN_OUT, nondeterministic: true,
    fn: ([jwt, c], ctx) => decodeVerify(jwt as string, c as RObject, ctx) },
  { name: 'io.jwt.encode_sign_raw', args: ['string', 'string', 'string'], result: 'string', nondeterministic: true,
    fn: ([h, p, k]) => encodeSign(h as string, p as string, k as string) },
  { name: 'io.jwt.encode_sign', args: ['object[string:any]', 'object[string:any]', 'object[string:any]'], result: 'string',
    nondeterministic: true, fn: ([h, p, k]) => encodeSign(marshal(h!), marshal(p!), marshal(k!)) },
];

export const builtins: BuiltinTable = Object.fromEntries(table.map((b) => [b.name, b]));
