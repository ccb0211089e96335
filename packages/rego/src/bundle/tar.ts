/**
 * The tar.gz container of an OPA bundle: ustar entries for regular files, written as OPA's writer does (paths
 * rooted at `/`, mode 0600, time 0) and read with limits, since a bundle server's response is untrusted input.
 */
import { gunzipSync, gzipSync } from 'node:zlib';

export interface TarEntry { path: string; data: Buffer }

const BLOCK = 512;

function header(path: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  let name = path, prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = path.lastIndexOf('/', path.length - 1 - 0);
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
    if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`bundle path too long for tar: ${path}`);
  }
  h.write(name, 0, 100, 'utf8');
  h.write('0000600\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  h.write('00000000000\0', 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

export function writeTarGz(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e.path, e.data.length), e.data);
    const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts));
}

const field = (h: Buffer, at: number, len: number): string => {
  const s = h.subarray(at, at + len);
  const end = s.indexOf(0);
  return s.subarray(0, end < 0 ? len : end).toString('utf8');
};

/** Regular files of a tar.gz (directories and links are skipped); throws on a corrupt or oversized archive. */
export function readTarGz(bytes: Buffer, maxBytes: number): TarEntry[] {
  let tar: Buffer;
  try {
    tar = gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (e) {
    throw new Error(`bundle is not a gzip archive within ${maxBytes} bytes: ${(e as Error).message}`);
  }
  const out: TarEntry[] = [];
  let longName: string | undefined;
  for (let at = 0; at + BLOCK <= tar.length;) {
    const h = tar.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(field(h, 124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0 || at + BLOCK + size > tar.length) throw new Error('corrupt tar archive in bundle');
    const type = String.fromCharCode(h[156] || 48);
    const data = tar.subarray(at + BLOCK, at + BLOCK + size);
    const prefix = field(h, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    longName = undefined;
    if (type === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
    else if (type === '0' || type === '\0') out.push({ path: name, data: Buffer.from(data) });
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
