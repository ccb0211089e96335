/** Rego tokenizer. Tokens remember whether a newline preceded them (Rego separates body expressions by newlines). */
import { RegoError } from './errors.js';

export type TokKind = 'ident' | 'string' | 'rawstring' | 'number' | 'template' | 'op' | 'eof';

export interface TemplatePart {
  text?: string;
  /** source of an embedded expression, with the offset where it starts */
  expr?: string;
  row?: number;
  col?: number;
}

export interface Token {
  kind: TokKind;
  text: string;
  /** decoded value for strings */
  value?: string;
  parts?: TemplatePart[];
  row: number;
  col: number;
  pos: number;
  end: number;
  nl: boolean;
}

export interface Comment {
  text: string;
  row: number;
  col: number;
}

const TWO_CHAR_OPS = new Set([':=', '==', '!=', '<=', '>=']);
const ONE_CHAR_OPS = new Set(['{', '}', '[', ']', '(', ')', '.', ',', ';', ':', '=', '<', '>', '+', '-', '*', '/', '%', '&', '|']);

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}
function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9');
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export function tokenize(src: string, file: string, rowBase = 1, colBase = 1): { tokens: Token[]; comments: Comment[] } {
  const tokens: Token[] = [];
  const comments: Comment[] = [];
  let i = 0, row = rowBase, lineStart = -(colBase - 1), nl = true;
  const fail = (msg: string, at = i): never => {
    throw RegoError.single('rego_parse_error', msg, { file, row, col: at - lineStart + 1 });
  };
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') { i++; row++; lineStart = i; nl = true; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '#') {
      const start = i;
      while (i < src.length && src[i] !== '\n') i++;
      comments.push({ text: src.slice(start + 1, i), row, col: start - lineStart + 1 });
      continue;
    }
    const start = i, col = i - lineStart + 1;
    const push = (kind: TokKind, extra?: Partial<Token>) => {
      const t: Token = { kind, text: src.slice(start, i), row, col, pos: start, end: i, nl };
      if (extra) Object.assign(t, extra);
      tokens.push(t);
      nl = false;
    };
    if (isIdentStart(c)) {
      while (i < src.length && isIdentPart(src[i])) i++;
      push('ident');
      continue;
    }
    if (isDigit(c)) {
      while (i < src.length && isDigit(src[i])) i++;
      if (src[i] === '.' && isDigit(src[i + 1] ?? '')) { i++; while (i < src.length && isDigit(src[i])) i++; }
      if ((src[i] === 'e' || src[i] === 'E') && (isDigit(src[i + 1] ?? '') || ((src[i + 1] === '+' || src[i + 1] === '-') && isDigit(src[i + 2] ?? '')))) {
        i += 2;
        while (i < src.length && isDigit(src[i])) i++;
      }
      if (i < src.length && (isIdentStart(src[i]) || src[i] === '.' && isDigit(src[i + 1] ?? ''))) fail('illegal number format');
      push('number');
      continue;
    }
    if (c === '"') {
      i++;
      let out = '';
      for (;;) {
        if (i >= src.length || src[i] === '\n') fail('non-terminated string', start);
        const d = src[i];
        if (d === '"') { i++; break; }
        if (d === '\\') { const r = readEscape(src, i, fail); out += r.s; i = r.next; continue; }
        out += d; i++;
      }
      push('string', { value: out });
      continue;
    }
    if (c === '`') {
      i++;
      const s0 = i;
      while (i < src.length && src[i] !== '`') { if (src[i] === '\n') { row++; lineStart = i + 1; } i++; }
      if (i >= src.length) fail('non-terminated raw string', start);
      const value = src.slice(s0, i);
      i++;
      push('rawstring', { value });
      continue;
    }
    if (c === '$' && (src[i + 1] === '"' || src[i + 1] === '`')) {
      const raw = src[i + 1] === '`';
      i += 2;
      const parts: TemplatePart[] = [];
      let text = '';
      for (;;) {
        if (i >= src.length || (!raw && src[i] === '\n')) fail('non-terminated template string', start);
        const d = src[i];
        if ((!raw && d === '"') || (raw && d === '`')) { i++; break; }
        if (d === '\\' && (src[i + 1] === '{' || src[i + 1] === '}')) { text += src[i + 1]; i += 2; continue; }
        if (!raw && d === '\\') {
          const r = readEscape(src, i, fail); text += r.s; i = r.next; continue;
        }
        if (d === '{') {
          if (text) { parts.push({ text }); text = ''; }
          const exprStart = i + 1;
          const exprRow = row, exprCol = exprStart - lineStart + 1;
          i = skipBalanced(src, i, raw, fail);
          parts.push({ expr: src.slice(exprStart, i - 1), row: exprRow, col: exprCol });
          continue;
        }
        if (d === '\n') { row++; lineStart = i + 1; }
        text += d; i++;
      }
      if (text) parts.push({ text });
      push('template', { parts });
      continue;
    }
    const two = src.substr(i, 2);
    const op = TWO_CHAR_OPS.has(two) ? two : ONE_CHAR_OPS.has(c) ? c : undefined;
    if (!op) fail(`unexpected character ${JSON.stringify(c)}`);
    i += op!.length;
    push('op');
  }
  tokens.push({ kind: 'eof', text: '', row, col: i - lineStart + 1, pos: i, end: i, nl: true });
  return { tokens, comments };
}

/** Skips a `{...}` template expression, honouring nested braces, strings and templates. Returns index after `}`. */
function skipBalanced(src: string, i: number, raw: boolean, fail: (m: string, at?: number) => never): number {
  let depth = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '{') { depth++; i++; continue; }
    if (c === '}') { depth--; i++; if (depth === 0) return i; continue; }
    if (c === '"' || (c === '$' && src[i + 1] === '"')) {
      if (c === '$') i++;
      i++;
      while (i < src.length && src[i] !== '"') { if (src[i] === '\\') i++; if (!raw && src[i] === '\n') break; i++; }
      i++;
      continue;
    }
    if (c === '`' || (c === '$' && src[i + 1] === '`')) {
      if (c === '$') i++;
      i++;
      while (i < src.length && src[i] !== '`') i++;
      i++;
      continue;
    }
    if (!raw && c === '\n') break;
    i++;
  }
  return fail('non-terminated template expression');
}

function readEscape(src: string, i: number, fail: (m: string, at?: number) => never): { s: string; next: number } {
  const e = src[i + 1];
  switch (e) {
    case '"': return { s: '"', next: i + 2 };
    case '\\': return { s: '\\', next: i + 2 };
    case '/': return { s: '/', next: i + 2 };
    case 'b': return { s: '\b', next: i + 2 };
    case 'f': return { s: '\f', next: i + 2 };
    case 'n': return { s: '\n', next: i + 2 };
    case 'r': return { s: '\r', next: i + 2 };
    case 't': return { s: '\t', next: i + 2 };
    case 'u': {
      const hex = src.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid unicode escape in string', i);
      let code = parseInt(hex, 16);
      let next = i + 6;
      if (code >= 0xd800 && code < 0xdc00 && src[next] === '\\' && src[next + 1] === 'u') {
        const lo = parseInt(src.slice(next + 2, next + 6), 16);
        if (lo >= 0xdc00 && lo < 0xe000) { code = 0x10000 + ((code - 0xd800) << 10) + (lo - 0xdc00); next += 6; }
      }
      return { s: String.fromCodePoint(code), next };
    }
    default:
      return fail('invalid escape sequence in string', i);
  }
}
