// Go's encoding/base64 decoding, with its exact CorruptInputError offsets: OPA's
// crypto and JWT builtins surface these errors verbatim.

export class GoDecodeError extends Error {}

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function decodeMap(alphabet: string): Int16Array {
  const m = new Int16Array(256).fill(-1);
  for (let i = 0; i < alphabet.length; i++) m[alphabet.charCodeAt(i)] = i;
  return m;
}
const STD_MAP = decodeMap(STD);
const URL_MAP = decodeMap(URL);

const corrupt = (at: number) => new GoDecodeError(`illegal base64 data at input byte ${at}`);

/** base64.Encoding.DecodeString (padded unless `raw`), ignoring \r and \n like Go. */
function decode(src: Uint8Array, map: Int16Array, padded: boolean): Buffer {
  const out: number[] = [];
  let si = 0;
  while (si < src.length) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let done = false;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out);
        if (j === 1 || padded) throw corrupt(si - j);
        dlen = j;
        done = true;
        break;
      }
      const c = src[si]!;
      si++;
      const v = map[c]!;
      if (v >= 0) {
        dbuf[j] = v;
        continue;
      }
      if (c === 10 || c === 13) {
        j--;
        continue;
      }
      if (!padded || c !== 61) throw corrupt(si - 1);
      if (j === 0 || j === 1) throw corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && (src[si] === 10 || src[si] === 13)) si++;
        if (si === src.length) throw corrupt(src.length);
        if (src[si] !== 61) throw corrupt(si - 1);
        si++;
      }
      while (si < src.length && (src[si] === 10 || src[si] === 13)) si++;
      if (si < src.length) throw corrupt(si);
      dlen = j;
      done = true;
      break;
    }
    const val = (dbuf[0]! << 18) | (dbuf[1]! << 12) | (dbuf[2]! << 6) | dbuf[3]!;
    const bytes = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
    out.push(...bytes.slice(0, dlen - 1));
    if (done) break;
  }
  return Buffer.from(out);
}

export function base64StdDecode(s: string): Buffer {
  return decode(Buffer.from(s, 'utf8'), STD_MAP, true);
}

/** OPA's base64url.decode: pads unpadded input (RFC 7515 appendix C) before decoding. */
export function base64UrlDecodeLenient(s: string): Buffer {
  if (!s.endsWith('=')) {
    switch (Buffer.byteLength(s) % 4) {
      case 0: break;
      case 2: s += '=='; break;
      case 3: s += '='; break;
      default: throw new GoDecodeError(`illegal base64url string: ${s}`);
    }
  }
  return decode(Buffer.from(s, 'utf8'), URL_MAP, true);
}

export function base64RawUrlEncode(b: Uint8Array | string): string {
  return Buffer.from(b).toString('base64url');
}
