/** providers.aws.sign_req (OPA topdown/providers.go): AWS Signature Version 4 by the Authorization header. */
import { createHash, createHmac } from 'node:crypto';
import { isInteger, toBigInt } from '../num.js';
import { isNum, isObject, makeObject, makeSet, valueToString, type RObject, type Value } from '../value.js';
import { marshal } from './go/json.js';
import { goFormat, UTC } from './go/time.js';
import { validateHTTPRequest } from './host.js';
import { typeErr } from './operands.js';
import { OperandTypeError, type BuiltinDef, type BuiltinTable } from './registry.js';

const REQUIRED_CONFIG = ['aws_access_key', 'aws_region', 'aws_secret_access_key', 'aws_service'];
// Headers a proxy may rewrite stay out of the signature (as in the AWS SDK).
const IGNORED_HEADERS = new Set(['authorization', 'user-agent', 'x-amzn-trace-id']);

const str = (v: Value | undefined): string => (typeof v === 'string' ? v : '');
const hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const mac = (key: Buffer | string, msg: string): Buffer => createHmac('sha256', key).update(msg).digest();

function validateConfig(cfg: RObject): void {
  const missing = REQUIRED_CONFIG.filter((k) => !cfg.has(k));
  if (missing.length > 0) {
    throw new OperandTypeError(`operand 2 missing required AWS config parameters(s): ${valueToString(makeSet(missing))}`);
  }
  const invalid = REQUIRED_CONFIG.filter((k) => typeof cfg.get(k) !== 'string');
  if (invalid.length > 0) {
    throw new OperandTypeError(`operand 2 invalid values for required AWS config parameters(s): ${valueToString(makeSet(invalid))}`);
  }
}

/** Host, escaped path and raw query of a URL, as Go's net/url gives them. */
function urlParts(url: string): { host: string; path: string; query: string } {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?/.exec(url);
  const authority = m?.[1] ?? '';
  return { host: authority.slice(authority.lastIndexOf('@') + 1), path: m?.[2] ?? '', query: m?.[3] ?? '' };
}

function signRequest(req: RObject, cfg: RObject, timeNs: Value): Value {
  validateConfig(cfg);
  if (!isNum(timeNs) || !isInteger(timeNs) || toBigInt(timeNs) < 0n || toBigInt(timeNs) >= 2n ** 63n) {
    throw new OperandTypeError('operand 3 could not convert time_ns value into a unix timestamp');
  }
  validateHTTPRequest(req, 1);
  const headersValue = req.get('headers');
  let headers: [string, string][] = [];
  if (headersValue !== undefined) {
    if (!isObject(headersValue)) throw typeErr(0, headersValue, 'object');
    headers = headersValue.entries().map(([k, v]) => [str(k), str(v)]);
  }
  const invalid = ['method', 'url'].filter((k) => typeof req.get(k) !== 'string');
  if (invalid.length > 0) {
    throw new OperandTypeError(`operand 1 invalid values for required request parameters(s): ${valueToString(makeSet(invalid))}`);
  }
  const disable = cfg.get('disable_payload_signing');
  if (disable !== undefined && typeof disable !== 'boolean') {
    throw new OperandTypeError("operand 2 invalid value for 'disable_payload_signing' in AWS config");
  }
  const rawBody = req.get('raw_body');
  const bodyValue = req.get('body');
  const body = rawBody !== undefined ? str(rawBody) : bodyValue !== undefined ? marshal(bodyValue) : '';
  const service = str(cfg.get('aws_service'));
  const region = str(cfg.get('aws_region'));
  const url = urlParts(str(req.get('url')));
  const method = str(req.get('method'));

  const ns = toBigInt(timeNs);
  const date = goFormat(ns, UTC, '20060102');
  const stamp = goFormat(ns, UTC, '20060102T150405Z');
  const payloadHash = disable === true ? 'UNSIGNED-PAYLOAD' : hex(body);

  const awsHeaders: [string, string][] = [['host', url.host], ['x-amz-date', stamp]];
  if (service === 's3' || service === 'glacier') awsHeaders.push(['x-amz-content-sha256', payloadHash]);
  const token = str(cfg.get('aws_session_token'));
  if (token !== '') awsHeaders.push(['x-amz-security-token', token]);

  const toSign = new Map<string, string>();
  // As OPA does: request headers are signed over the AWS ones of the same name.
  for (const [k, v] of awsHeaders) toSign.set(k, v);
  for (const [k, v] of headers) if (!IGNORED_HEADERS.has(k.toLowerCase())) toSign.set(k.toLowerCase(), v);
  const names = [...toSign.keys()].sort();
  const signedHeaders = names.join(';');
  const canonical = [
    method, url.path, url.query, ...names.map((k) => `${k}:${toSign.get(k)}`), '', signedHeaders, payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, scope, hex(canonical)].join('\n');
  let key = mac(`AWS4${str(cfg.get('aws_secret_access_key'))}`, date);
  for (const part of [region, service, 'aws4_request']) key = mac(key, part);
  const signature = mac(key, stringToSign).toString('hex');
  const auth = `AWS4-HMAC-SHA256 Credential=${str(cfg.get('aws_access_key'))}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`;

  const outHeaders = makeObject([...headers, ['Authorization', auth], ...awsHeaders]);
  return makeObject([...req.entries().filter(([k]) => k !== 'headers'), ['headers', outHeaders]]);
}

const table: BuiltinDef[] = [
  { name: 'providers.aws.sign_req', args: ['object[string:any]', 'object[string:any]', 'number'], result: 'object[any:any]',
    fn: ([req, cfg, t]) => signRequest(req as RObject, cfg as RObject, t!) },
];

export const builtins: BuiltinTable = Object.fromEntries(table.map((b) => [b.name, b]));
