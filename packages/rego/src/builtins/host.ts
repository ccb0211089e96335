/**
 * Host-provided builtins: http.send, net.lookup_ip_addr, opa.runtime. The engine never reaches the
 * network or the process environment by itself: these call the hooks the host plugged into
 * BuiltinContext.host, and fail with an error naming the missing hook otherwise.
 */
import { readFileSync } from 'node:fs';
import { isObject, makeObject, makeSet, valueToString, type RObject, type Value } from '../value.js';
import { parseAddr, ipString } from './go/ip.js';
import { BuiltinError, OperandTypeError, type BuiltinDef, type BuiltinTable } from './registry.js';

function disabled(builtin: string, hook: string, what: string): BuiltinError {
  return new BuiltinError(`${builtin} is disabled: the host has not enabled ${what} (plug in HostHooks.${hook})`);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

const ALLOWED_REQUEST_KEYS = new Set([
  'method', 'url', 'body', 'enable_redirect', 'force_json_decode', 'force_yaml_decode', 'headers', 'raw_body',
  'tls_use_system_certs', 'tls_ca_cert', 'tls_ca_cert_file', 'tls_ca_cert_env_variable', 'tls_client_cert',
  'tls_client_cert_file', 'tls_client_cert_env_variable', 'tls_client_key', 'tls_client_key_file',
  'tls_client_key_env_variable', 'tls_insecure_skip_verify', 'tls_server_name', 'timeout', 'cache', 'force_cache',
  'force_cache_duration_seconds', 'raise_error', 'caching_mode', 'max_retry_attempts', 'cache_ignored_headers',
]);

/** OPA's validateHTTPRequestOperand: only http.send's keys, and method and url present. */
export function validateHTTPRequest(req: RObject, pos: number): void {
  const invalid = req.keys().filter((k) => typeof k !== 'string' || !ALLOWED_REQUEST_KEYS.has(k));
  if (invalid.length > 0) {
    throw new OperandTypeError(`operand ${pos} invalid request parameters(s): ${valueToString(makeSet(invalid))}`);
  }
  const missing = ['method', 'url'].filter((k) => !req.has(k));
  if (missing.length > 0) {
    throw new OperandTypeError(`operand ${pos} missing required request parameters(s): ${valueToString(makeSet(missing))}`);
  }
}

function httpSend(req: RObject, ctx: Parameters<BuiltinDef['fn']>[1]): Value {
  validateHTTPRequest(req, 1);
  const hook = ctx.host.httpSend;
  if (!hook) throw disabled('http.send', 'httpSend', 'outbound HTTP');
  // Identical requests within one query get one response, as in OPA.
  const key = `http.send:${valueToString(req)}`;
  if (ctx.cache.has(key)) return ctx.cache.get(key) as Value;
  const res = hook(req);
  if (isThenable(res)) {
    throw new BuiltinError('the host returned a pending response; the evaluator is synchronous, so the host must settle http.send responses before evaluation');
  }
  ctx.cache.set(key, res);
  return res;
}

function lookupIpAddr(name: string, ctx: Parameters<BuiltinDef['fn']>[1]): Value {
  // Literal addresses resolve to themselves without any resolver, as Go's does.
  const literal = parseAddr(name);
  if (literal) return makeSet([literal.is4 ? ipString(literal.ip.subarray(12)) : ipString(literal.ip)]);
  const hook = ctx.host.lookupIpAddr;
  if (!hook) throw disabled('net.lookup_ip_addr', 'lookupIpAddr', 'DNS lookups');
  return makeSet(hook(name));
}

/**
 * A synchronous resolver over the hosts file (e.g. "localhost"), for hosts that want name
 * resolution without DNS traffic. Returns the addresses listed for `name`, or none.
 */
export function hostsFileLookup(name: string, path = '/etc/hosts'): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [addr, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (addr && names.some((n) => n.toLowerCase() === name.toLowerCase()) && parseAddr(addr)) out.push(addr);
  }
  return out;
}

const table: BuiltinDef[] = [
  { name: 'http.send', args: ['object[string:any]'], result: 'object[any:any]', nondeterministic: true,
    fn: ([req], ctx) => httpSend(req as RObject, ctx) },
  { name: 'net.lookup_ip_addr', args: ['string'], result: 'set[string]', nondeterministic: true,
    fn: ([name], ctx) => lookupIpAddr(name as string, ctx) },
  // Without a runtime hook, OPA's answer when it runs without runtime information: an empty object.
  { name: 'opa.runtime', args: [], result: 'object[string:any]', nondeterministic: true,
    fn: (_args, ctx) => {
      const v = ctx.host.runtime?.();
      if (v === undefined) return makeObject([]);
      if (!isObject(v)) throw new BuiltinError('the host runtime hook must return an object');
      return v;
    } },
];

export const builtins: BuiltinTable = Object.fromEntries(table.map((b) => [b.name, b]));
