// Go's encoding/pem.Decode, ported for its exact notion of a block and of the
// data left after it (OPA rejects "extra data after a PEM certificate block").
import { base64StdDecode } from './base64.js';

export interface PemBlock { type: string; headers: Record<string, string>; bytes: Buffer; rest: string }

function getLine(data: string): [string, string] {
  let i = data.indexOf('\n');
  let j: number;
  if (i < 0) {
    i = data.length;
    j = i;
  } else {
    j = i + 1;
    if (i > 0 && data[i - 1] === '\r') i--;
  }
  return [data.slice(0, i).replace(/[ \t]+$/, ''), data.slice(j)];
}

/** The first PEM block in `data`, or undefined when there is none. */
export function decodePEM(data: string): PemBlock | undefined {
  let rest = data;
  for (;;) {
    if (rest.startsWith('-----BEGIN ')) {
      rest = rest.slice('-----BEGIN '.length);
    } else {
      const at = rest.indexOf('\n-----BEGIN ');
      if (at < 0) return undefined;
      rest = rest.slice(at + '\n-----BEGIN '.length);
    }
    let typeLine: string;
    [typeLine, rest] = getLine(rest);
    if (!typeLine.endsWith('-----')) continue;
    typeLine = typeLine.slice(0, -5);
    const headers: Record<string, string> = {};
    for (;;) {
      if (rest.length === 0) return undefined;
      const [line, next] = getLine(rest);
      const colon = line.indexOf(':');
      if (colon < 0) break;
      headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      rest = next;
    }
    let endIndex: number;
    let endTrailerIndex: number;
    if (Object.keys(headers).length === 0 && rest.startsWith('-----END ')) {
      endIndex = 0;
      endTrailerIndex = '-----END '.length;
    } else {
      endIndex = rest.indexOf('\n-----END ');
      endTrailerIndex = endIndex + '\n-----END '.length;
    }
    if (endIndex < 0) continue;
    let endTrailer = rest.slice(endTrailerIndex);
    const endTrailerLen = typeLine.length + 5;
    if (endTrailer.length < endTrailerLen) continue;
    const restOfEndLine = endTrailer.slice(endTrailerLen);
    endTrailer = endTrailer.slice(0, endTrailerLen);
    if (!endTrailer.startsWith(typeLine) || !endTrailer.endsWith('-----')) continue;
    if (getLine(restOfEndLine)[0].length !== 0) continue;
    let bytes: Buffer;
    try {
      bytes = base64StdDecode(rest.slice(0, endIndex).replace(/[ \t]/g, ''));
    } catch {
      continue;
    }
    const [, after] = getLine(rest.slice(endIndex + '\n-----END '.length - 1));
    return { type: typeLine, headers, bytes, rest: after };
  }
}

/** Every PEM block in `data`, in order. */
export function decodeAllPEM(data: string): PemBlock[] {
  const out: PemBlock[] = [];
  let rest = data;
  for (;;) {
    const b = decodePEM(rest);
    if (!b) return out;
    out.push(b);
    rest = b.rest;
  }
}

export function encodePEM(type: string, bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${type}-----\n${b64}\n-----END ${type}-----\n`;
}
