/**
 * crypto.x509.* and crypto.parse_private_keys (OPA topdown/crypto.go). Certificates are decoded
 * with our DER reader into the shape Go's encoding/json gives x509.Certificate, because policies
 * address those field names (Subject.CommonName, DNSNames, URIStrings, ...). Verification and key
 * handling use node:crypto.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { numFromJS } from '../num.js';
import { isArray, isNum, isSet, makeObject, type RObject, type Value } from '../value.js';
import { bitString, children, DerError, expect, integer, oid, readNode, text, time, type Node } from './go/der.js';
import { base64StdDecode, GoDecodeError } from './go/base64.js';
import { ipString } from './go/ip.js';
import { decodeAllPEM, decodePEM, encodePEM, type PemBlock } from './go/pem.js';
import { BuiltinError, type BuiltinDef, type BuiltinTable } from './registry.js';

const obj = (entries: [string, Value][]): RObject => makeObject(entries);
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const big = (x: bigint): Value => numFromJS(x);
const oidKey = (o: number[]) => o.join('.');
const nullIfEmpty = <T extends Value>(xs: T[]): Value => (xs.length === 0 ? null : xs);

const SIGNATURE_ALGORITHMS: Record<string, number> = {
  '1.2.840.113549.1.1.2': 1, '1.2.840.113549.1.1.4': 2, '1.2.840.113549.1.1.5': 3, '1.2.840.113549.1.1.11': 4,
  '1.2.840.113549.1.1.12': 5, '1.2.840.113549.1.1.13': 6, '1.2.840.10040.4.3': 7, '2.16.840.1.101.3.4.3.2': 8,
  '1.2.840.10045.4.1': 9, '1.2.840.10045.4.3.2': 10, '1.2.840.10045.4.3.3': 11, '1.2.840.10045.4.3.4': 12,
  '1.3.101.112': 16,
};
const PSS_BY_HASH: Record<string, number> = { '2.16.840.1.101.3.4.2.1': 13, '2.16.840.1.101.3.4.2.2': 14, '2.16.840.1.101.3.4.2.3': 15 };
const PUBLIC_KEY_ALGORITHMS: Record<string, number> = {
  '1.2.840.113549.1.1.1': 1, '1.2.840.10040.4.1': 2, '1.2.840.10045.2.1': 3, '1.3.101.112': 4,
};
const EXT_KEY_USAGES: Record<string, number> = {
  '2.5.29.37.0': 0, '1.3.6.1.5.5.7.3.1': 1, '1.3.6.1.5.5.7.3.2': 2, '1.3.6.1.5.5.7.3.3': 3, '1.3.6.1.5.5.7.3.4': 4,
  '1.3.6.1.5.5.7.3.5': 5, '1.3.6.1.5.5.7.3.6': 6, '1.3.6.1.5.5.7.3.7': 7, '1.3.6.1.5.5.7.3.8': 8, '1.3.6.1.5.5.7.3.9': 9,
  '1.3.6.1.4.1.311.10.3.3': 10, '2.16.840.1.113730.4.1': 11, '1.3.6.1.4.1.311.2.1.22': 12, '1.3.6.1.4.1.311.61.1.1': 13,
};

function signatureAlgorithm(algId: Node): number {
  const parts = children(algId);
  const id = oidKey(oid(parts[0]!));
  if (id === '1.2.840.113549.1.1.10') {
    // RSASSA-PSS: the hash sits in the parameters
    try {
      const hashAlg = children(children(expect(parts[1], 0x30))[0]!)[0]!;
      return PSS_BY_HASH[oidKey(oid(children(hashAlg)[0]!))] ?? 0;
    } catch {
      return 0;
    }
  }
  return SIGNATURE_ALGORITHMS[id] ?? 0;
}

const NAME_FIELDS: Record<string, string> = {
  '2.5.4.6': 'Country', '2.5.4.10': 'Organization', '2.5.4.11': 'OrganizationalUnit', '2.5.4.7': 'Locality',
  '2.5.4.8': 'Province', '2.5.4.9': 'StreetAddress', '2.5.4.17': 'PostalCode',
};

/** pkix.Name as Go fills it from an RDN sequence. */
function pkixName(n: Node): RObject {
  const lists: Record<string, string[]> = {};
  let serial = '';
  let cn = '';
  const names: Value[] = [];
  for (const rdn of children(expect(n, 0x30))) {
    for (const atv of children(rdn)) {
      const [t, v] = children(atv);
      const type = oid(t!);
      const value = text(v!);
      names.push(obj([['Type', type], ['Value', value]]));
      const key = oidKey(type);
      if (key === '2.5.4.3') cn = value;
      else if (key === '2.5.4.5') serial = value;
      else if (NAME_FIELDS[key]) (lists[NAME_FIELDS[key]] ??= []).push(value);
    }
  }
  return obj([
    ...Object.values(NAME_FIELDS).map((f) => [f, nullIfEmpty(lists[f] ?? [])] as [string, Value]),
    ['SerialNumber', serial], ['CommonName', cn], ['Names', nullIfEmpty(names)], ['ExtraNames', null],
  ]);
}

function publicKeyValue(spki: Node): { algorithm: number; key: Value } {
  const [algId, bits] = children(spki);
  const algorithm = PUBLIC_KEY_ALGORITHMS[oidKey(oid(children(algId!)[0]!))] ?? 0;
  const keyBytes = bitString(bits!).bytes;
  if (algorithm === 1) {
    const [n, e] = children(readNode(keyBytes).node);
    return { algorithm, key: obj([['N', big(integer(n!))], ['E', big(integer(e!))]]) };
  }
  if (algorithm === 3 && keyBytes[0] === 4) {
    const size = (keyBytes.length - 1) / 2;
    const x = BigInt(`0x${keyBytes.subarray(1, 1 + size).toString('hex')}`);
    const y = BigInt(`0x${keyBytes.subarray(1 + size).toString('hex')}`);
    return { algorithm, key: obj([['Curve', obj([])], ['X', big(x)], ['Y', big(y)]]) };
  }
  if (algorithm === 4) return { algorithm, key: b64(keyBytes) };
  return { algorithm, key: null };
}

interface GeneralNames { dns: string[]; email: string[]; ip: string[]; uri: string[] }

function generalNames(n: Node): GeneralNames {
  const out: GeneralNames = { dns: [], email: [], ip: [], uri: [] };
  for (const gn of children(n)) {
    switch (gn.tag) {
      case 0x81: out.email.push(gn.body.toString('latin1')); break;
      case 0x82: out.dns.push(gn.body.toString('latin1')); break;
      case 0x86: out.uri.push(gn.body.toString('latin1')); break;
      case 0x87: if (gn.body.length === 4 || gn.body.length === 16) out.ip.push(ipString(gn.body)); break;
    }
  }
  return out;
}

/** *url.URL as Go's encoding/json writes it. */
function urlValue(s: string): Value {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(\/\/([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?$/.exec(s);
  const scheme = m?.[1] ?? '';
  const hasAuthority = m?.[2] !== undefined;
  const authority = m?.[3] ?? '';
  const at = authority.lastIndexOf('@');
  const user = at >= 0 ? authority.slice(0, at) : undefined;
  return obj([
    ['Scheme', scheme.toLowerCase()],
    ['Opaque', m && !hasAuthority && !(m[4] ?? '').startsWith('/') ? m[4] ?? '' : ''],
    ['User', user === undefined ? null : obj([])],
    ['Host', at >= 0 ? authority.slice(at + 1) : authority],
    ['Path', m && (hasAuthority || (m[4] ?? '').startsWith('/')) ? decodeURIComponentSafe(m[4] ?? '') : ''],
    ['RawPath', ''], ['OmitHost', false], ['ForceQuery', false],
    ['RawQuery', m?.[6] ?? ''], ['Fragment', decodeURIComponentSafe(m?.[8] ?? '')], ['RawFragment', ''],
  ]);
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function parseExtensions(exts: Node[]) {
  const r = {
    list: [] as Value[], keyUsage: 0, extKeyUsage: [] as number[], unknownEKU: [] as Value[],
    bcValid: false, isCA: false, maxPathLen: 0, ski: null as Value, aki: null as Value,
    ocsp: [] as string[], issuerURL: [] as string[], names: { dns: [], email: [], ip: [], uri: [] } as GeneralNames,
    crl: [] as string[], policies: [] as Value[], unhandledCritical: [] as Value[],
  };
  for (const ext of exts) {
    const parts = children(ext);
    const id = oid(parts[0]!);
    let critical = false;
    let valueNode = parts[1]!;
    if (valueNode.tag === 0x01) {
      critical = valueNode.body[0] !== 0;
      valueNode = parts[2]!;
    }
    const value = expect(valueNode, 0x04).body;
    r.list.push(obj([['Id', id], ['Critical', critical], ['Value', b64(value)]]));
    const inner = () => readNode(value).node;
    switch (oidKey(id)) {
      case '2.5.29.15': { // key usage
        const { bytes } = bitString(inner());
        for (let i = 0; i < 9; i++) if ((bytes[i >> 3] ?? 0) & (0x80 >> (i & 7))) r.keyUsage |= 1 << i;
        break;
      }
      case '2.5.29.19': { // basic constraints
        r.bcValid = true;
        r.maxPathLen = -1;
        for (const c of children(inner())) {
          if (c.tag === 0x01) r.isCA = c.body[0] !== 0;
          else if (c.tag === 0x02) r.maxPathLen = Number(integer(c));
        }
        break;
      }
      case '2.5.29.17': r.names = generalNames(inner()); break;
      case '2.5.29.37':
        for (const u of children(inner())) {
          const o = oid(u);
          const known = EXT_KEY_USAGES[oidKey(o)];
          if (known === undefined) r.unknownEKU.push(o);
          else r.extKeyUsage.push(known);
        }
        break;
      case '2.5.29.14': r.ski = b64(expect(inner(), 0x04).body); break;
      case '2.5.29.35':
        for (const c of children(inner())) if (c.tag === 0x80) r.aki = b64(c.body);
        break;
      case '1.3.6.1.5.5.7.1.1': // authority info access
        for (const ad of children(inner())) {
          const [method, loc] = children(ad);
          if (loc?.tag !== 0x86) continue;
          const m = oidKey(oid(method!));
          if (m === '1.3.6.1.5.5.7.48.1') r.ocsp.push(loc.body.toString('latin1'));
          else if (m === '1.3.6.1.5.5.7.48.2') r.issuerURL.push(loc.body.toString('latin1'));
        }
        break;
      case '2.5.29.31': // CRL distribution points: fullName URIs
        for (const dp of children(inner())) {
          for (const f of children(dp)) {
            if (f.tag !== 0xa0) continue;
            for (const full of children(f)) if (full.tag === 0xa0) r.crl.push(...generalNames(full).uri);
          }
        }
        break;
      case '2.5.29.32':
        for (const p of children(inner())) r.policies.push(oid(children(p)[0]!));
        break;
      default:
        if (critical) r.unhandledCritical.push(id);
    }
  }
  return r;
}

/** x509.ParseCertificate, as a Go-JSON-shaped object. */
function certificateValue(der: Buffer): RObject {
  const cert = expect(readNode(der).node, 0x30);
  const [tbs, sigAlg, sig] = children(cert);
  const t = children(expect(tbs, 0x30));
  let i = 0;
  let version = 1;
  if (t[0]?.tag === 0xa0) {
    version = Number(integer(children(t[0])[0]!)) + 1;
    i++;
  }
  const serial = integer(t[i++]!);
  i++; // inner signature algorithm
  const issuer = t[i++]!;
  const validity = children(expect(t[i++], 0x30));
  const subject = t[i++]!;
  const spki = expect(t[i++], 0x30);
  let extNodes: Node[] = [];
  for (; i < t.length; i++) if (t[i]!.tag === 0xa3) extNodes = children(children(t[i]!)[0]!);
  const ext = parseExtensions(extNodes);
  const pk = publicKeyValue(spki);
  return obj([
    ['Raw', b64(der)], ['RawTBSCertificate', b64(tbs!.raw)], ['RawSubjectPublicKeyInfo', b64(spki.raw)],
    ['RawSubject', b64(subject.raw)], ['RawIssuer', b64(issuer.raw)],
    ['Signature', b64(bitString(sig!).bytes)], ['SignatureAlgorithm', signatureAlgorithm(sigAlg!)],
    ['PublicKeyAlgorithm', pk.algorithm], ['PublicKey', pk.key],
    ['Version', version], ['SerialNumber', big(serial)], ['Issuer', pkixName(issuer)], ['Subject', pkixName(subject)],
    ['NotBefore', time(validity[0]!)], ['NotAfter', time(validity[1]!)],
    ['KeyUsage', ext.keyUsage], ['Extensions', nullIfEmpty(ext.list)], ['ExtraExtensions', null],
    ['UnhandledCriticalExtensions', nullIfEmpty(ext.unhandledCritical)],
    ['ExtKeyUsage', nullIfEmpty(ext.extKeyUsage)], ['UnknownExtKeyUsage', nullIfEmpty(ext.unknownEKU)],
    ['BasicConstraintsValid', ext.bcValid], ['IsCA', ext.isCA], ['MaxPathLen', ext.maxPathLen],
    ['MaxPathLenZero', ext.bcValid && ext.maxPathLen === 0],
    ['SubjectKeyId', ext.ski], ['AuthorityKeyId', ext.aki],
    ['OCSPServer', nullIfEmpty(ext.ocsp)], ['IssuingCertificateURL', nullIfEmpty(ext.issuerURL)],
    ['DNSNames', nullIfEmpty(ext.names.dns)], ['EmailAddresses', nullIfEmpty(ext.names.email)],
    ['IPAddresses', nullIfEmpty(ext.names.ip)], ['URIs', nullIfEmpty(ext.names.uri.map(urlValue))],
    ['PermittedDNSDomainsCritical', false], ['PermittedDNSDomains', null], ['ExcludedDNSDomains', null],
    ['PermittedIPRanges', null], ['ExcludedIPRanges', null], ['PermittedEmailAddresses', null],
    ['ExcludedEmailAddresses', null], ['PermittedURIDomains', null], ['ExcludedURIDomains', null],
    ['CRLDistributionPoints', nullIfEmpty(ext.crl)], ['PolicyIdentifiers', nullIfEmpty(ext.policies)],
    // Go 1.22+ also writes policies as dotted OIDs, and the (here unparsed) policy constraints as zeros
    ['Policies', nullIfEmpty(ext.policies.map((o) => (o as number[]).join('.')))],
    ['InhibitAnyPolicy', 0], ['InhibitAnyPolicyZero', false], ['InhibitPolicyMapping', 0], ['InhibitPolicyMappingZero', false],
    ['RequireExplicitPolicy', 0], ['RequireExplicitPolicyZero', false], ['PolicyMappings', null],
    ['URIStrings', nullIfEmpty(ext.names.uri)],
  ]);
}

interface ParsedCert { der: Buffer; value: RObject; node: X509Certificate }

/** x509.ParseCertificates over concatenated DER. */
function parseCertificates(der: Buffer): ParsedCert[] {
  const out: ParsedCert[] = [];
  let off = 0;
  try {
    while (off < der.length) {
      const { node, next } = readNode(der, off);
      const one = Buffer.from(node.raw);
      out.push({ der: one, value: certificateValue(one), node: new X509Certificate(one) });
      off = next;
    }
  } catch (e) {
    if (e instanceof DerError || e instanceof Error) throw new BuiltinError('x509: malformed certificate');
    throw e;
  }
  return out;
}

function b64Decode(s: string): Buffer {
  try {
    return base64StdDecode(s);
  } catch (e) {
    if (e instanceof GoDecodeError) throw new BuiltinError(e.message);
    throw e;
  }
}

function certsFromPEM(text: string): ParsedCert[] {
  const ders: Buffer[] = [];
  for (const block of decodeAllPEM(text)) {
    if (block.type !== 'CERTIFICATE') throw new BuiltinError(`PEM block type is '${block.type}', expected CERTIFICATE`);
    ders.push(block.bytes);
  }
  return parseCertificates(Buffer.concat(ders));
}

/** OPA's getX509CertsFromString: PEM, base64 PEM, or base64 DER. */
function certsFromString(s: string): ParsedCert[] {
  if (s.startsWith('-----BEGIN')) return certsFromPEM(s);
  const raw = b64Decode(s);
  if (raw.subarray(0, 10).toString('latin1') === '-----BEGIN') return certsFromPEM(raw.toString('latin1'));
  return parseCertificates(raw);
}

// --- chain verification (x509.Certificate.Verify, simplified to OPA's root/intermediates/leaf layout) ---

interface VerifyOptions { dnsName?: string; now: Date; keyUsages: number[] }

function validAt(c: ParsedCert, now: Date): boolean {
  return new Date(c.node.validFrom) <= now && now <= new Date(c.node.validTo);
}

function issuedBy(child: ParsedCert, parent: ParsedCert): boolean {
  return child.node.checkIssued(parent.node) && child.node.verify(parent.node.publicKey);
}

function ekuOK(c: ParsedCert, wanted: number[]): boolean {
  const eku = c.value.get('ExtKeyUsage');
  const unknown = c.value.get('UnknownExtKeyUsage');
  if (eku === null && unknown === null) return true;
  const have = isArray(eku ?? null) ? (eku as Value[]) : [];
  if (have.includes(0)) return true;
  return wanted.includes(0) || wanted.some((w) => have.includes(w));
}

function verifyChain(certs: ParsedCert[], opts: VerifyOptions): ParsedCert[] | undefined {
  if (certs.length < 2) throw new BuiltinError('operand 1 must supply at least two certificates to be able to verify');
  const root = certs[0]!;
  const intermediates = certs.slice(1, -1);
  const leaf = certs[certs.length - 1]!;
  if (opts.dnsName !== undefined && opts.dnsName !== '' && leaf.node.checkHost(opts.dnsName) === undefined) return undefined;
  const wanted = opts.keyUsages.length === 0 ? [1] : opts.keyUsages;
  const isCA = (c: ParsedCert) => c.value.get('BasicConstraintsValid') === true && c.value.get('IsCA') === true;
  const build = (chain: ParsedCert[]): ParsedCert[] | undefined => {
    const cur = chain[chain.length - 1]!;
    if (!validAt(cur, opts.now) || !ekuOK(cur, wanted)) return undefined;
    if (issuedBy(cur, root) && isCA(root) && validAt(root, opts.now)) {
      return cur.der.equals(root.der) ? chain : [...chain, root];
    }
    for (const im of intermediates) {
      if (chain.includes(im) || !isCA(im) || !issuedBy(cur, im)) continue;
      const done = build([...chain, im]);
      if (done) return done;
    }
    return undefined;
  };
  return build([leaf]);
}

const KEY_USAGE_NAMES: Record<string, number> = {
  KeyUsageAny: 0, KeyUsageServerAuth: 1, KeyUsageClientAuth: 2, KeyUsageCodeSigning: 3, KeyUsageEmailProtection: 4,
  KeyUsageIPSECEndSystem: 5, KeyUsageIPSECTunnel: 6, KeyUsageIPSECUser: 7, KeyUsageTimeStamping: 8,
  KeyUsageOCSPSigning: 9, KeyUsageMicrosoftServerGatedCrypto: 10, KeyUsageNetscapeServerGatedCrypto: 11,
  KeyUsageMicrosoftCommercialCodeSigning: 12, KeyUsageMicrosoftKernelCodeSigning: 13,
};

function verifyOptions(o: RObject): VerifyOptions {
  const opts: VerifyOptions = { now: new Date(), keyUsages: [] };
  for (const [k, v] of o.entries()) {
    if (typeof k !== 'string') continue;
    switch (k) {
      case 'DNSName':
        if (typeof v !== 'string') throw new BuiltinError("'DNSName' should be a string");
        opts.dnsName = v.replace(/^"+|"+$/g, '');
        break;
      case 'CurrentTime':
        if (!isNum(v)) throw new BuiltinError("'CurrentTime' should be a number");
        opts.now = new Date(Number(BigInt(String(v)) / 1_000_000n));
        break;
      case 'MaxConstraintComparisons':
        if (!isNum(v)) throw new BuiltinError("'MaxConstraintComparisons' should be a number");
        break;
      case 'KeyUsages': {
        if (!isArray(v) && !isSet(v)) throw new BuiltinError("'KeyUsages' should be an Array or Set");
        const invalid: string[] = [];
        for (const u of isArray(v) ? v : v.values()) {
          if (typeof u !== 'string') continue;
          const name = u.replace(/^"+|"+$/g, '');
          if (name in KEY_USAGE_NAMES) opts.keyUsages.push(KEY_USAGE_NAMES[name]!);
          else invalid.push(name);
        }
        if (invalid.length > 0) throw new BuiltinError(`invalid entries for 'KeyUsages' found: [${invalid.join(' ')}]`);
        break;
      }
      default:
        throw new BuiltinError('invalid key option');
    }
  }
  return opts;
}

function parseAndVerify(input: string, opts: VerifyOptions, withURIStrings: boolean): Value {
  const failed: Value = [false, []];
  let certs: ParsedCert[];
  try {
    certs = certsFromString(input);
  } catch {
    return failed;
  }
  let chain: ParsedCert[] | undefined;
  try {
    chain = verifyChain(certs, opts);
  } catch {
    return failed;
  }
  if (!chain) return failed;
  return [true, chain.map((c) => (withURIStrings ? c.value : withoutURIStrings(c.value)))];
}

function withoutURIStrings(v: RObject): RObject {
  return makeObject(v.entries().filter(([k]) => k !== 'URIStrings'));
}

// --- certificate requests -----------------------------------------------------------------------

function certificateRequestValue(der: Buffer): RObject {
  try {
    const csr = expect(readNode(der).node, 0x30);
    const [info, sigAlg, sig] = children(csr);
    const parts = children(expect(info, 0x30));
    const version = Number(integer(parts[0]!));
    const subject = parts[1]!;
    const spki = expect(parts[2], 0x30);
    let extNodes: Node[] = [];
    if (parts[3]?.tag === 0xa0) {
      for (const attr of children(parts[3])) {
        const [type, values] = children(attr);
        if (oidKey(oid(type!)) === '1.2.840.113549.1.9.14') extNodes = children(children(values!)[0]!);
      }
    }
    const ext = parseExtensions(extNodes);
    const pk = publicKeyValue(spki);
    return obj([
      ['Raw', b64(der)], ['RawTBSCertificateRequest', b64(info!.raw)], ['RawSubjectPublicKeyInfo', b64(spki.raw)],
      ['RawSubject', b64(subject.raw)], ['Version', version], ['Signature', b64(bitString(sig!).bytes)],
      ['SignatureAlgorithm', signatureAlgorithm(sigAlg!)], ['PublicKeyAlgorithm', pk.algorithm], ['PublicKey', pk.key],
      ['Subject', pkixName(subject)], ['Attributes', null], ['Extensions', nullIfEmpty(ext.list)], ['ExtraExtensions', null],
      ['DNSNames', nullIfEmpty(ext.names.dns)], ['EmailAddresses', nullIfEmpty(ext.names.email)],
      ['IPAddresses', nullIfEmpty(ext.names.ip)], ['URIs', nullIfEmpty(ext.names.uri.map(urlValue))],
    ]);
  } catch (e) {
    if (e instanceof DerError) throw new BuiltinError(`asn1: structure error: ${e.message}`);
    throw new BuiltinError(`asn1: structure error: ${(e as Error).message}`);
  }
}

function parseCertificateRequest(input: string): Value {
  let bytes: Buffer = Buffer.from(input, 'latin1');
  if (!input.startsWith('-----BEGIN CERTIFICATE REQUEST-----')) bytes = b64Decode(input);
  const block = decodePEM(bytes.toString('latin1'));
  if (block && block.type !== 'CERTIFICATE REQUEST') throw new BuiltinError('invalid PEM-encoded certificate signing request');
  return certificateRequestValue(block ? block.bytes : bytes);
}

// --- private keys -------------------------------------------------------------------------------

function jwkBig(s: unknown): Value {
  return big(BigInt(`0x${Buffer.from(String(s), 'base64url').toString('hex') || '0'}`));
}

/** A private key as Go's encoding/json writes *rsa.PrivateKey / *ecdsa.PrivateKey / ed25519.PrivateKey. */
function privateKeyValue(key: KeyObject): Value {
  const jwk = key.export({ format: 'jwk' }) as Record<string, string>;
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return obj([
        ['N', jwkBig(jwk.n)], ['E', jwkBig(jwk.e)], ['D', jwkBig(jwk.d)], ['Primes', [jwkBig(jwk.p), jwkBig(jwk.q)]],
        ['Precomputed', obj([['Dp', jwkBig(jwk.dp)], ['Dq', jwkBig(jwk.dq)], ['Qinv', jwkBig(jwk.qi)], ['CRTValues', []]])],
      ]);
    case 'ec':
      return obj([['Curve', obj([])], ['X', jwkBig(jwk.x)], ['Y', jwkBig(jwk.y)], ['D', jwkBig(jwk.d)]]);
    case 'ed25519':
      return b64(Buffer.concat([Buffer.from(jwk.d!, 'base64url'), Buffer.from(jwk.x!, 'base64url')]));
    default:
      throw new BuiltinError(`unsupported private key type ${key.asymmetricKeyType}`);
  }
}

function privateKeyFromBlock(block: PemBlock): KeyObject | undefined {
  const der = block.bytes;
  try {
    switch (block.type) {
      case 'RSA PRIVATE KEY': return createPrivateKey({ key: der, format: 'der', type: 'pkcs1' });
      case 'PRIVATE KEY': return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      case 'EC PRIVATE KEY': return createPrivateKey({ key: der, format: 'der', type: 'sec1' });
      default: return undefined;
    }
  } catch (e) {
    throw new BuiltinError(`x509: failed to parse private key: ${(e as Error).message}`);
  }
}

/** OPA's getPrivateKeysFromPEMData (input optionally base64). */
function privateKeysFromPEM(data: string): KeyObject[] {
  try {
    data = base64StdDecode(data).toString('latin1');
  } catch {
    // not base64: PEM text as given
  }
  const keys: KeyObject[] = [];
  for (const block of decodeAllPEM(data)) {
    const k = privateKeyFromBlock(block);
    if (k) keys.push(k);
  }
  return keys;
}

function parseRSAPrivateKey(input: string): Value {
  if (input === '') throw new BuiltinError('input PEM data was empty');
  let text = input;
  if (!input.startsWith('-----BEGIN')) text = b64Decode(input).toString('latin1');
  const keys = privateKeysFromPEM(text);
  if (keys.length === 0) return null;
  const jwk = keys[0]!.export({ format: 'jwk' }) as Record<string, string>;
  return obj(Object.entries(jwk).map(([k, v]) => [k, v] as [string, Value]));
}

// --- key pairs ----------------------------------------------------------------------------------

function keyPair(certText: string, keyText: string): Value {
  if (!certText.startsWith('-----BEGIN ')) certText = b64Decode(certText).toString('latin1');
  if (!keyText.startsWith('-----BEGIN ')) keyText = b64Decode(keyText).toString('latin1');
  // DER input: wrap it as PEM, as OPA does
  if (!certText.startsWith('-----BEGIN ')) certText = encodePEM('CERTIFICATE', Buffer.from(certText, 'latin1'));
  if (!keyText.startsWith('-----BEGIN')) keyText = encodePEM('PRIVATE KEY', Buffer.from(keyText, 'latin1'));
  const certBlocks = decodeAllPEM(certText).filter((b) => b.type === 'CERTIFICATE');
  if (certBlocks.length === 0) throw new BuiltinError('tls: failed to find any PEM data in certificate input');
  const keyBlock = decodeAllPEM(keyText).find((b) => b.type === 'PRIVATE KEY' || b.type.endsWith(' PRIVATE KEY'));
  if (!keyBlock) throw new BuiltinError('tls: failed to find any PEM data in key input');
  const leaf = parseCertificates(certBlocks[0]!.bytes)[0]!;
  const key = privateKeyFromBlock(keyBlock.type.endsWith(' PRIVATE KEY') && !['RSA PRIVATE KEY', 'EC PRIVATE KEY'].includes(keyBlock.type)
    ? { ...keyBlock, type: 'PRIVATE KEY' } : keyBlock);
  if (!key) throw new BuiltinError('tls: failed to parse private key');
  if (!leaf.node.checkPrivateKey(key)) throw new BuiltinError('tls: private key does not match public key');
  return obj([
    ['Certificate', certBlocks.map((b) => b64(b.bytes))], ['PrivateKey', privateKeyValue(key)],
    ['SupportedSignatureAlgorithms', null], ['OCSPStaple', null], ['SignedCertificateTimestamps', null],
    ['Leaf', withoutURIStrings(leaf.value)],
  ]);
}

const CERTS = 'array[object[string:any]]';

const table: BuiltinDef[] = [
  { name: 'crypto.x509.parse_certificates', args: ['string'], result: CERTS,
    fn: ([s]) => certsFromString(s as string).map((c) => c.value) },
  { name: 'crypto.x509.parse_and_verify_certificates', args: ['string'], result: 'array[any]',
    fn: ([s]) => parseAndVerify(s as string, { now: new Date(), keyUsages: [] }, true) },
  { name: 'crypto.x509.parse_and_verify_certificates_with_options', args: ['string', 'object[string:any]'], result: 'array[any]',
    fn: ([s, o]) => parseAndVerify(s as string, verifyOptions(o as RObject), false) },
  { name: 'crypto.x509.parse_certificate_request', args: ['string'], result: 'object[string:any]',
    fn: ([s]) => parseCertificateRequest(s as string) },
  { name: 'crypto.x509.parse_keypair', args: ['string', 'string'], result: 'object[string:any]',
    fn: ([c, k]) => keyPair(c as string, k as string) },
  { name: 'crypto.x509.parse_rsa_private_key', args: ['string'], result: 'object[string:any]',
    fn: ([s]) => parseRSAPrivateKey(s as string) },
  { name: 'crypto.parse_private_keys', args: ['string'], result: CERTS,
    fn: ([s]) => (s === '' ? null : privateKeysFromPEM(s as string).map(privateKeyValue)) },
];

export const builtins: BuiltinTable = Object.fromEntries(table.map((b) => [b.name, b]));
