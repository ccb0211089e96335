/**
 * strings.render_template: Go text/template as OPA runs it (missingkey=error, variables passed
 * through JSON so numbers are float64). Supported: text with {{- -}} trimming, comments,
 * pipelines with | and parentheses, fields (.a.b, $x.a), variables (:= and =), if / else if /
 * else, range (arrays, maps in key order, integers) with break / continue, with, define /
 * template / block, and the builtin functions and, or, not, len, index, slice, eq, ne, lt, le,
 * gt, ge, print, printf, println, html, js, urlquery.
 */
import { toFloat } from '../../num.js';
import { isArray, isNum, isSet, type Value } from '../../value.js';
import { BuiltinError, type BuiltinTable } from '../registry.js';
import { obj, str } from '../operands.js';
import { formatFloat, sprintf } from './sprintf.js';
import { queryEscape } from '../encoding.js';

/** Go-side values: float64 numbers, []any, map[string]any. */
type GoVal = null | boolean | number | string | GoVal[] | Map<string, GoVal>;

class TemplateError extends Error {}

function toGo(v: Value): GoVal {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (isNum(v)) return toFloat(v);
  if (isArray(v)) return v.map(toGo);
  if (isSet(v)) return v.values().map(toGo);
  const m = new Map<string, GoVal>();
  for (const [k, x] of v.entries()) m.set(typeof k === 'string' ? k : String(k), toGo(x));
  return m;
}

// ---------- lexing into text and actions ----------

type Piece = { kind: 'text'; text: string } | { kind: 'action'; src: string; line: number };

function split(tpl: string): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  let trimNext = false;
  while (i < tpl.length) {
    const open = tpl.indexOf('{{', i);
    let text = open < 0 ? tpl.slice(i) : tpl.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) { out.push({ kind: 'text', text }); break; }
    let start = open + 2;
    if (/^- /.test(tpl.slice(start)) || tpl.slice(start, start + 2) === '-\t' || tpl.slice(start, start + 2) === '-\n') {
      text = text.replace(/\s+$/, '');
      start += 2;
    }
    out.push({ kind: 'text', text });
    const line = tpl.slice(0, open).split('\n').length;
    let close: number;
    if (tpl.startsWith('/*', start)) {
      const endC = tpl.indexOf('*/', start);
      if (endC < 0) throw new TemplateError(`template: template:${line}: unclosed comment`);
      close = tpl.indexOf('}}', endC);
    } else close = findClose(tpl, start);
    if (close < 0) throw new TemplateError(`template: template:${line}: unclosed action`);
    let src = tpl.slice(start, close);
    if (/\s-$/.test(src)) { src = src.slice(0, -2); trimNext = true; }
    out.push({ kind: 'action', src: src.trim(), line });
    i = close + 2;
  }
  return out.filter((p) => p.kind === 'action' || p.text !== '');
}

/** Index of the `}}` closing an action, skipping quoted strings. */
function findClose(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === '`' || c === "'") {
      const q = c;
      i++;
      while (i < s.length && s[i] !== q) { if (q !== '`' && s[i] === '\\') i++; i++; }
    } else if (c === '}' && s[i + 1] === '}') return i;
  }
  return -1;
}

// ---------- action tokens and pipelines ----------

type Tok = { t: 'field'; names: string[] } | { t: 'var'; name: string; names: string[] } | { t: 'str'; v: string }
  | { t: 'num'; v: number } | { t: 'bool'; v: boolean } | { t: 'nil' } | { t: 'ident'; v: string }
  | { t: 'pipe' } | { t: 'lparen' } | { t: 'rparen'; names: string[] } | { t: 'decl'; op: ':=' | '=' } | { t: 'comma' };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const fieldChain = (): string[] => {
    const names: string[] = [];
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(src.slice(i))!;
      names.push(m[1]);
      i += m[0].length;
    }
    return names;
  };
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '|') { out.push({ t: 'pipe' }); i++; continue; }
    if (c === '(') { out.push({ t: 'lparen' }); i++; continue; }
    if (c === ')') { i++; out.push({ t: 'rparen', names: fieldChain() }); continue; }
    if (c === ',') { out.push({ t: 'comma' }); i++; continue; }
    if (src.startsWith(':=', i)) { out.push({ t: 'decl', op: ':=' }); i += 2; continue; }
    if (c === '=') { out.push({ t: 'decl', op: '=' }); i++; continue; }
    if (c === '.') {
      if (/[A-Za-z_]/.test(src[i + 1] ?? '')) out.push({ t: 'field', names: fieldChain() });
      else { out.push({ t: 'field', names: [] }); i++; }
      continue;
    }
    if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i))!;
      i += m[0].length;
      out.push({ t: 'var', name: m[0], names: fieldChain() });
      continue;
    }
    if (c === '"') {
      const end = findQuoteEnd(src, i);
      out.push({ t: 'str', v: JSON.parse(src.slice(i, end + 1).replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')) as string });
      i = end + 1;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new TemplateError('unterminated raw quoted string');
      out.push({ t: 'str', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if (c === "'") {
      const m = /^'(\\.|[^'])'/.exec(src.slice(i));
      if (!m) throw new TemplateError('malformed character constant');
      out.push({ t: 'num', v: (JSON.parse(`"${m[1]}"`) as string).codePointAt(0)! });
      i += m[0].length;
      continue;
    }
    const num = /^[+-]?(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?)/.exec(src.slice(i));
    if (num) { out.push({ t: 'num', v: Number(num[0]) }); i += num[0].length; continue; }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      i += id[0].length;
      if (id[0] === 'true' || id[0] === 'false') out.push({ t: 'bool', v: id[0] === 'true' });
      else if (id[0] === 'nil') out.push({ t: 'nil' });
      else out.push({ t: 'ident', v: id[0] });
      continue;
    }
    throw new TemplateError(`unexpected ${JSON.stringify(c)} in command`);
  }
  return out;
}

function findQuoteEnd(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  throw new TemplateError('unterminated quoted string');
}

type Arg = { k: 'tok'; tok: Tok } | { k: 'sub'; pipe: Pipeline; names: string[] };
interface Pipeline { decl?: { vars: string[]; op: ':=' | '=' }; cmds: Arg[][] }

function parsePipeline(toks: Tok[]): Pipeline {
  let i = 0;
  const p: Pipeline = { cmds: [] };
  // declarations: $x := ... / $i, $v := ...
  const declEnd = toks.findIndex((t) => t.t === 'decl');
  if (declEnd > 0 && toks.slice(0, declEnd).every((t) => t.t === 'var' || t.t === 'comma')) {
    p.decl = { vars: toks.slice(0, declEnd).filter((t) => t.t === 'var').map((t) => (t as { name: string }).name), op: (toks[declEnd] as { op: ':=' | '=' }).op };
    i = declEnd + 1;
  }
  const parseCmds = (stopAtParen: boolean): Arg[][] => {
    const cmds: Arg[][] = [[]];
    while (i < toks.length) {
      const t = toks[i];
      if (t.t === 'rparen') {
        if (!stopAtParen) throw new TemplateError('unexpected right paren');
        return cmds;
      }
      i++;
      if (t.t === 'pipe') { cmds.push([]); continue; }
      if (t.t === 'lparen') {
        const inner = parseCmds(true);
        const close = toks[i++] as { t: 'rparen'; names: string[] } | undefined;
        if (!close) throw new TemplateError('unclosed left paren');
        if (inner.some((c) => c.length === 0)) throw new TemplateError('missing value for command');
        cmds[cmds.length - 1].push({ k: 'sub', pipe: { cmds: inner }, names: close.names });
        continue;
      }
      cmds[cmds.length - 1].push({ k: 'tok', tok: t });
    }
    if (stopAtParen) throw new TemplateError('unclosed left paren');
    return cmds;
  };
  p.cmds = parseCmds(false);
  if (p.cmds.some((c) => c.length === 0)) throw new TemplateError('missing value for command');
  return p;
}

// ---------- tree ----------

type Node =
  | { n: 'text'; text: string }
  | { n: 'print'; pipe: Pipeline; line: number; src: string }
  | { n: 'if' | 'with'; pipe: Pipeline; body: Node[]; els: Node[]; line: number; src: string }
  | { n: 'range'; pipe: Pipeline; body: Node[]; els: Node[]; line: number; src: string }
  | { n: 'template'; name: string; pipe?: Pipeline; line: number; src: string }
  | { n: 'break' | 'continue' };

class TreeParser {
  private i = 0;
  readonly defs = new Map<string, Node[]>();

  constructor(private readonly pieces: Piece[]) {}

  parse(): Node[] {
    const [nodes, end] = this.list();
    if (end) throw new TemplateError(`template: template:${end.line}: unexpected {{${end.src}}}`);
    return nodes;
  }

  /** Nodes until an {{end}} / {{else ...}} (returned) or the end of input. */
  private list(): [Node[], { src: string; line: number } | undefined] {
    const nodes: Node[] = [];
    while (this.i < this.pieces.length) {
      const p = this.pieces[this.i++];
      if (p.kind === 'text') { nodes.push({ n: 'text', text: p.text }); continue; }
      const src = p.src;
      if (src.startsWith('/*')) continue;
      const kw = /^(if|else|end|range|with|break|continue|define|template|block)\b/.exec(src)?.[1];
      const rest = kw ? src.slice(kw.length).trim() : src;
      switch (kw) {
        case 'end': case 'else':
          return [nodes, { src, line: p.line }];
        case 'if': case 'with': case 'range':
          nodes.push(this.control(kw, rest, p.line, src));
          break;
        case 'break': case 'continue':
          nodes.push({ n: kw });
          break;
        case 'define': case 'block': {
          const toks = tokenize(rest);
          const nameTok = toks[0];
          if (!nameTok || nameTok.t !== 'str') throw new TemplateError(`template: template:${p.line}: ${kw} needs a name`);
          const [body, end] = this.list();
          if (!end || !end.src.startsWith('end')) throw new TemplateError(`template: template:${p.line}: unexpected EOF`);
          this.defs.set(nameTok.v, body);
          if (kw === 'block') nodes.push({ n: 'template', name: nameTok.v, pipe: toks.length > 1 ? parsePipeline(toks.slice(1)) : undefined, line: p.line, src });
          break;
        }
        case 'template': {
          const toks = tokenize(rest);
          const nameTok = toks[0];
          if (!nameTok || nameTok.t !== 'str') throw new TemplateError(`template: template:${p.line}: template needs a name`);
          nodes.push({ n: 'template', name: nameTok.v, pipe: toks.length > 1 ? parsePipeline(toks.slice(1)) : undefined, line: p.line, src });
          break;
        }
        default:
          nodes.push({ n: 'print', pipe: parsePipeline(tokenize(src)), line: p.line, src });
      }
    }
    return [nodes, undefined];
  }

  private control(kw: 'if' | 'with' | 'range', rest: string, line: number, src: string): Node {
    const pipe = parsePipeline(tokenize(rest));
    const [body, end] = this.list();
    if (!end) throw new TemplateError(`template: template:${line}: unexpected EOF`);
    let els: Node[] = [];
    if (end.src.startsWith('else')) {
      const chained = end.src.slice(4).trim();
      if (/^(if|with)\b/.test(chained)) {
        // {{else if p}} ... shares the single {{end}}
        const k = chained.startsWith('if') ? 'if' : 'with';
        els = [this.control(k, chained.slice(k.length).trim(), end.line, chained)];
        return { n: kw, pipe, body, els, line, src };
      }
      const [elseBody, end2] = this.list();
      if (!end2 || !end2.src.startsWith('end')) throw new TemplateError(`template: template:${line}: expected end`);
      els = elseBody;
    }
    return { n: kw, pipe, body, els, line, src };
  }
}

// ---------- execution ----------

class Break {}
class Continue {}

function truth(v: GoVal): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v !== '';
  if (Array.isArray(v)) return v.length > 0;
  return v.size > 0;
}

function printValue(v: GoVal, top = true): string {
  if (v === null) return top ? '<no value>' : '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return formatFloat(v, 'v', undefined, { minus: false, plus: false, sharp: false, space: false, zero: false });
  if (Array.isArray(v)) return `[${v.map((x) => printValue(x, false)).join(' ')}]`;
  return `map[${[...v.keys()].sort().map((k) => `${k}:${printValue(v.get(k)!, false)}`).join(' ')}]`;
}

/** Go fmt argument for print/printf: integers stay integers, other numbers are floats. */
function fmtArg(v: GoVal): Value {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  return printValue(v, false);
}

class Exec {
  private out = '';
  private vars: [string, GoVal][] = [];

  constructor(private readonly defs: Map<string, Node[]>, root: GoVal) {
    this.vars.push(['$', root]);
  }

  run(nodes: Node[], dot: GoVal): string {
    this.walk(nodes, dot);
    return this.out;
  }

  private fail(node: { line: number; src: string }, msg: string): never {
    throw new TemplateError(`template: template:${node.line}: executing "template" at <${node.src}>: ${msg}`);
  }

  private lookupVar(name: string, at: { line: number; src: string }): GoVal {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i][0] === name) return this.vars[i][1];
    this.fail(at, `undefined variable: ${name}`);
  }

  private walk(nodes: Node[], dot: GoVal): void {
    const mark = this.vars.length;
    try {
      for (const node of nodes) this.node(node, dot);
    } finally {
      this.vars.length = mark;
    }
  }

  private node(node: Node, dot: GoVal): void {
    switch (node.n) {
      case 'text': this.out += node.text; return;
      case 'break': throw new Break();
      case 'continue': throw new Continue();
      case 'print': {
        const v = this.pipeline(node.pipe, dot, node);
        if (!node.pipe.decl) this.out += printValue(v);
        return;
      }
      case 'if': case 'with': {
        const mark = this.vars.length;
        const v = this.pipeline(node.pipe, dot, node);
        if (truth(v)) this.walk(node.body, node.n === 'with' ? v : dot);
        else this.walk(node.els, dot);
        this.vars.length = mark;
        return;
      }
      case 'range': return this.range(node, dot);
      case 'template': {
        const body = this.defs.get(node.name);
        if (!body) this.fail(node, `no such template "${node.name}"`);
        const d = node.pipe ? this.pipeline(node.pipe, dot, node) : null;
        this.out += new Exec(this.defs, d).run(body, d);
        return;
      }
    }
  }

  private range(node: Extract<Node, { n: 'range' }>, dot: GoVal): void {
    const decl = node.pipe.decl;
    const v = this.pipeline({ cmds: node.pipe.cmds }, dot, node);
    let entries: [GoVal, GoVal][];
    if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
    else if (v instanceof Map) entries = [...v.keys()].sort().map((k) => [k, v.get(k)!]);
    else if (typeof v === 'number' && Number.isInteger(v)) entries = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    else if (v === null) entries = [];
    else this.fail(node, `range can't iterate over ${printValue(v)}`);
    if (entries.length === 0) { this.walk(node.els, dot); return; }
    for (const [k, x] of entries) {
      const mark = this.vars.length;
      if (decl) {
        if (decl.vars.length === 1) this.vars.push([decl.vars[0], x]);
        else { this.vars.push([decl.vars[0], k]); this.vars.push([decl.vars[1], x]); }
      }
      try {
        this.walk(node.body, x);
      } catch (e) {
        if (e instanceof Break) { this.vars.length = mark; break; }
        if (!(e instanceof Continue)) throw e;
      }
      this.vars.length = mark;
    }
  }

  private pipeline(p: Pipeline, dot: GoVal, at: { line: number; src: string }): GoVal {
    let v: GoVal | undefined;
    for (const cmd of p.cmds) v = this.command(cmd, dot, v, at);
    const result = v ?? null;
    if (p.decl) {
      if (p.decl.op === ':=') this.vars.push([p.decl.vars[0], result]);
      else {
        const name = p.decl.vars[0];
        let found = false;
        for (let i = this.vars.length - 1; i >= 0 && !found; i--) if (this.vars[i][0] === name) { this.vars[i][1] = result; found = true; }
        if (!found) this.fail(at, `undefined variable: ${name}`);
      }
    }
    return result;
  }

  private field(base: GoVal, names: string[], at: { line: number; src: string }): GoVal {
    let cur = base;
    for (const n of names) {
      if (cur instanceof Map) {
        if (!cur.has(n)) this.fail(at, `map has no entry for key "${n}"`);
        cur = cur.get(n)!;
      } else if (cur === null) this.fail(at, `nil pointer evaluating interface {}.${n}`);
      else this.fail(at, `can't evaluate field ${n} in type ${goType(cur)}`);
    }
    return cur;
  }

  private arg(a: Arg, dot: GoVal, at: { line: number; src: string }): GoVal {
    if (a.k === 'sub') return this.field(this.pipeline(a.pipe, dot, at), a.names, at);
    const t = a.tok;
    switch (t.t) {
      case 'field': return this.field(dot, t.names, at);
      case 'var': return this.field(this.lookupVar(t.name, at), t.names, at);
      case 'str': case 'num': case 'bool': return t.v;
      case 'nil': return null;
      case 'ident': return this.call(t.v, [], at);
      default: this.fail(at, 'unexpected token in operand');
    }
  }

  private command(cmd: Arg[], dot: GoVal, piped: GoVal | undefined, at: { line: number; src: string }): GoVal {
    const first = cmd[0];
    if (first.k === 'tok' && first.tok.t === 'ident') {
      const name = first.tok.v;
      if (name === 'and' || name === 'or') {
        // short-circuit, returning the deciding argument
        const args = cmd.slice(1);
        let last: GoVal = null;
        for (let i = 0; i < args.length + (piped !== undefined ? 1 : 0); i++) {
          last = i < args.length ? this.arg(args[i], dot, at) : piped!;
          if (name === 'and' ? !truth(last) : truth(last)) return last;
        }
        return last;
      }
      const args = cmd.slice(1).map((a) => this.arg(a, dot, at));
      if (piped !== undefined) args.push(piped);
      return this.call(name, args, at);
    }
    if (cmd.length > 1 || piped !== undefined) this.fail(at, `can't give argument to non-function ${describeArg(first)}`);
    return this.arg(first, dot, at);
  }

  private call(name: string, args: GoVal[], at: { line: number; src: string }): GoVal {
    const need = (n: number): void => {
      if (args.length !== n) this.fail(at, `error calling ${name}: wrong number of args for ${name}: want ${n} got ${args.length}`);
    };
    switch (name) {
      case 'not': need(1); return !truth(args[0]);
      case 'len': {
        need(1);
        const v = args[0];
        if (typeof v === 'string') return Buffer.byteLength(v);
        if (Array.isArray(v)) return v.length;
        if (v instanceof Map) return v.size;
        this.fail(at, `error calling len: len of type ${goType(v)}`);
      }
      case 'index': {
        let cur = args[0];
        for (const k of args.slice(1)) {
          if (Array.isArray(cur) && typeof k === 'number') {
            if (k < 0 || k >= cur.length) this.fail(at, `error calling index: index out of range: ${k}`);
            cur = cur[k];
          } else if (cur instanceof Map && typeof k === 'string') cur = cur.get(k) ?? null;
          else this.fail(at, `error calling index: cannot index ${goType(cur)} with ${goType(k)}`);
        }
        return cur;
      }
      case 'slice': {
        const v = args[0];
        const [lo, hi] = [args[1] as number | undefined, args[2] as number | undefined];
        if (typeof v === 'string' || Array.isArray(v)) return v.slice(lo ?? 0, hi ?? v.length) as GoVal;
        this.fail(at, `error calling slice: can't slice item of type ${goType(v)}`);
      }
      case 'eq': {
        if (args.length < 2) this.fail(at, 'error calling eq: missing argument for comparison');
        return args.slice(1).some((x) => basicEqual(args[0], x));
      }
      case 'ne': need(2); return !basicEqual(args[0], args[1]);
      case 'lt': case 'le': case 'gt': case 'ge': {
        need(2);
        const [a, b] = args;
        if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) {
          this.fail(at, `error calling ${name}: incompatible types for comparison`);
        }
        const c = a! < b! ? -1 : a! > b! ? 1 : 0;
        return name === 'lt' ? c < 0 : name === 'le' ? c <= 0 : name === 'gt' ? c > 0 : c >= 0;
      }
      case 'print': return goSprint(args);
      case 'println': return `${args.map((a) => printValue(a, false)).join(' ')}\n`;
      case 'printf': {
        if (typeof args[0] !== 'string') this.fail(at, 'error calling printf: format must be a string');
        return sprintf(args[0], args.slice(1).map(fmtArg));
      }
      case 'html': return goSprint(args).replace(/[&'<>"\0]/g, (c) => HTML_ESC[c]);
      case 'js': return goSprint(args).replace(/[\\'"<>&=\n\r\t]/g, (c) => JS_ESC[c]);
      case 'urlquery': return queryEscape(goSprint(args));
      default: this.fail(at, `function "${name}" not defined`);
    }
  }
}

const HTML_ESC: Record<string, string> = { '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' };
const JS_ESC: Record<string, string> = {
  '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D', '\n': '\\n', '\r': '\\r', '\t': '\\t',
};

/** fmt.Sprint: spaces only between operands when neither is a string. */
function goSprint(args: GoVal[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += printValue(a, false);
  });
  return out;
}

function basicEqual(a: GoVal, b: GoVal): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a !== typeof b) return false;
  if (typeof a === 'object') return false;
  return a === b;
}

function goType(v: GoVal): string {
  if (v === null) return '<nil>';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

function describeArg(a: Arg): string {
  if (a.k === 'sub') return '(...)';
  const t = a.tok;
  if (t.t === 'field') return `.${t.names.join('.')}`;
  if (t.t === 'var') return t.name + t.names.map((n) => `.${n}`).join('');
  return 't' in t ? JSON.stringify((t as { v?: unknown }).v ?? null) : '';
}

const parsed = new Map<string, { nodes: Node[]; defs: Map<string, Node[]> }>();

export function renderTemplate(tpl: string, vars: Value): string {
  let t = parsed.get(tpl);
  if (!t) {
    const p = new TreeParser(split(tpl));
    const nodes = p.parse();
    t = { nodes, defs: p.defs };
    if (parsed.size >= 500) parsed.delete(parsed.keys().next().value as string);
    parsed.set(tpl, t);
  }
  const data = toGo(vars);
  return new Exec(t.defs, data).run(t.nodes, data);
}

export const builtins: BuiltinTable = {
  'strings.render_template': {
    name: 'strings.render_template',
    args: ['string', 'object[string:any]'],
    result: 'string',
    fn: ([t, v]) => {
      const tpl = str(t, 1);
      obj(v, 2);
      try {
        return renderTemplate(tpl, v);
      } catch (e) {
        if (e instanceof TemplateError) throw new BuiltinError(e.message);
        throw e;
      }
    },
  },
};
