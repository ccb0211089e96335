import { BlockList, isIP } from 'node:net';
import { SandboxError } from '../errors.js';

/** One allowlist entry: an exact host, a `*.` suffix pattern or an IP literal, with a port set. */
export interface AllowRule {
  text: string;
  host: string;
  wildcard: boolean;
  /** null = any port. */
  ports: number[] | null;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function isHostName(host: string): boolean {
  return host.length <= 253 && host.split('.').every((l) => LABEL.test(l));
}

/** Lower-case, without the trailing dot and IPv6 brackets; IPv6 compressed; IPv4-mapped IPv6 literals become IPv4. */
export function canonicalHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (isIP(h) !== 6) return h;
  h = new URL(`http://[${h}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (!mapped) return h;
  const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function parseAllowRule(text: string): AllowRule {
  const bad = (why: string) => new SandboxError('invalid_request', `network.allow: ${JSON.stringify(text)} ${why}`);
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\*|\d{1,5}))?$/.exec(text.trim());
  if (!m) throw bad("is not host, host:port or host:* (IPv6 in brackets)");
  const wildcard = m[1]!.startsWith('*.');
  const host = canonicalHost(wildcard ? m[1]!.slice(2) : m[1]!);
  if (isIP(host) === 0 && !isHostName(host)) throw bad('has an invalid host name');
  if (wildcard && isIP(host) !== 0) throw bad('cannot put a wildcard on an IP address');
  let ports: number[] | null;
  if (m[2] === undefined) ports = [80, 443];
  else if (m[2] === '*') ports = null;
  else {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw bad('has a port outside 1-65535');
    ports = [port];
  }
  return { text, host, wildcard, ports };
}

export function ruleMatches(rule: AllowRule, host: string, port: number): boolean {
  if (rule.ports && !rule.ports.includes(port)) return false;
  return rule.wildcard ? host.endsWith(`.${rule.host}`) : host === rule.host;
}

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

export function parseCidr(text: string): Cidr {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  const address = m ? canonicalHost(m[1]!) : '';
  const version = isIP(address);
  const bad = () => new SandboxError('invalid_request', `network.allowPrivateRanges: ${JSON.stringify(text)} is not an IP address or CIDR range`);
  if (!m || version === 0) throw bad();
  const max = version === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) throw bad();
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Addresses a sandbox never reaches unless a range is allowed explicitly: "this network", private, shared (CGNAT),
 * loopback, link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254), benchmarking, documentation,
 * multicast and reserved ranges, plus IPv6 forms that can embed IPv4 (NAT64, 6to4, Teredo). IPv4-mapped IPv6
 * addresses are checked as the IPv4 address they carry (canonicalHost), not as a range: Node's BlockList matches
 * every IPv4 address against an ::ffff:0:0/96 rule.
 */
const SPECIAL_RANGES: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001::', 32, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

const special = new BlockList();
for (const [address, prefix, family] of SPECIAL_RANGES) special.addSubnet(address, prefix, family);

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 4 ? 'ipv4' : 'ipv6';
}

export function isSpecialAddress(address: string): boolean {
  const a = canonicalHost(address);
  return special.check(a, familyOf(a));
}

export class PrivateRangeAllowance {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  constructor(ranges: string[]) {
    for (const r of ranges.map(parseCidr)) this.list.addSubnet(r.address, r.prefix, r.family);
    this.empty = ranges.length === 0;
  }

  allows(address: string): boolean {
    if (this.empty) return false;
    const a = canonicalHost(address);
    return this.list.check(a, familyOf(a));
  }
}
