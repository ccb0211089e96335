/**
 * One canonical form of a request target, computed once at the edge and used both for the policy input and for
 * the upstream call, so that what the policy judged is exactly what is carried out.
 *
 * A path is split on "/", each segment percent-decoded, and dot segments removed (RFC 3986 §5.2.4). What has no
 * safe canonical form is refused: a malformed escape, an encoded "/" or "\", NUL or other control characters,
 * "?" or "#" inside a segment, empty segments ("//" — also how a request could name another host), a segment that
 * still holds a percent-escape once decoded (double encoding: a server that decodes twice would read another path),
 * a dot segment carrying path parameters ("..;x", which some servers treat as ".."), text that Unicode NFKC would
 * turn into something else (full-width dots and slashes), and ".." climbing above the base.
 * The upstream gets the canonical path re-encoded segment by segment, joined under its base path, never resolved.
 */

export class CanonicalError extends Error {
  override name = 'CanonicalError';
}

/** RFC 3986 pchar minus what we always escape: unreserved, sub-delims, ":" and "@" stay literal. */
const PCHAR_LITERAL = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/;

/** The decoded segments of `raw` (a path below some base: "" or starting with "/"). */
export function canonicalSegments(raw: string): string[] {
  if (raw === '' || raw === '/') return [];
  if (!raw.startsWith('/')) throw new CanonicalError('the path must start with "/"');
  const out: string[] = [];
  const parts = raw.slice(1).split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    // A single trailing "/" is kept as an empty last segment (".../orders/" is not ".../orders").
    if (part === '' && i === parts.length - 1 && i > 0) {
      out.push('');
      break;
    }
    const segment = decodeSegment(part);
    if (segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) throw new CanonicalError('the path climbs above its base with ".."');
      out.pop();
      continue;
    }
    out.push(segment);
  }
  return out;
}

/** The path the policy sees: decoded segments, dot segments removed. */
export function canonicalPath(raw: string): string {
  return `/${canonicalSegments(raw).join('/')}`;
}

/** The same path as the upstream receives it: every segment percent-encoded in one canonical way. */
export function encodePath(canonical: string): string {
  if (!canonical.startsWith('/')) throw new CanonicalError('a canonical path starts with "/"');
  return canonical
    .split('/')
    .map((segment) => encodeSegment(segment))
    .join('/');
}

function decodeSegment(part: string): string {
  if (part === '') throw new CanonicalError('empty path segment ("//")');
  let segment: string;
  try {
    segment = decodeURIComponent(part);
  } catch {
    throw new CanonicalError(`malformed percent-encoding in path segment "${part}"`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(segment)) throw new CanonicalError('control characters in the path');
  if (segment.includes('/') || segment.includes('\\')) throw new CanonicalError(`encoded "/" or "\\" in path segment "${part}"`);
  if (segment.includes('?') || segment.includes('#')) throw new CanonicalError(`"?" or "#" inside path segment "${part}"`);
  if (segment.normalize('NFKC') !== segment) throw new CanonicalError(`path segment "${part}" is not in Unicode normal form NFKC`);
  if (/%[0-9A-Fa-f]{2}/.test(segment)) throw new CanonicalError(`path segment "${part}" is percent-encoded twice`);
  const bare = segment.split(';')[0];
  if (segment.includes(';') && (bare === '.' || bare === '..')) throw new CanonicalError(`dot segment with path parameters "${part}"`);
  return segment;
}

function encodeSegment(segment: string): string {
  let out = '';
  for (const ch of segment) out += PCHAR_LITERAL.test(ch) ? ch : encodeURIComponent(ch);
  return out;
}

export type Query = Record<string, string | string[]>;

/** Query parameters as the policy sees them (repeated names become arrays, in order). */
export function parseQuery(raw: string): Query | undefined {
  if (raw === '') return undefined;
  const out: Query = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** The query the upstream receives, serialized from exactly what the policy saw ("%20" for spaces, "%2B" for "+"). */
export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const pairs: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    for (const value of Array.isArray(v) ? v : [v]) pairs.push(`${encodeURIComponent(k)}=${encodeURIComponent(value)}`);
  }
  return pairs.join('&');
}
