/**
 * `rego fmt`: prints a module the way `opa fmt` does (OPA's format package is the reference: same layout
 * decisions from the source positions of the parsed nodes, same comment placement, same v0 → v1 rewriting).
 */
import type { Body, Expr, Import, Module, Rule, RuleHead, Term, With } from '../ast.js';
import { BUILTINS } from '../builtins/index.js';
import { RegoError } from '../errors.js';
import type { Comment } from '../lexer.js';
import { parseModuleWithSpans, type RegoVersion, type Spans } from '../parser.js';
import { checkRegoV1, pathText } from './v1-check.js';

export interface FormatOptions {
  /** how the source is parsed (default v1) */
  parseAs?: RegoVersion;
  /** the Rego the output is for: v1, v0, or 'v0v1' (compatible with both: `opa fmt --rego-v1` / `--v0-v1`) */
  target?: 'v1' | 'v0' | 'v0v1';
}

/** Formats one module's source; parse errors are thrown as RegoError. */
export function formatSource(src: string, file: string, opts: FormatOptions = {}): string {
  const target = opts.target ?? 'v1';
  const parsed = parseModuleWithSpans(src, file, opts.parseAs ?? (target === 'v1' ? 'v1' : 'v0'));
  if (target === 'v0v1') {
    const errors = checkRegoV1(parsed.module);
    if (errors.length) throw new RegoError(errors);
  }
  return new Writer(src, parsed.spans, parsed.comments, parsed.module, target).module();
}

interface Loc { row: number; col: number; text: string }

const INFIX: Record<string, string> = {
  equal: '==', neq: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=', plus: '+', minus: '-', mul: '*', div: '/', rem: '%',
  and: '&', or: '|', eq: '=', assign: ':=',
};

const KEYWORDS_V1 = ['not', 'with', 'as', 'some', 'every', 'in', 'default', 'else', 'contains', 'if', 'import', 'package', 'true', 'false', 'null'];
const KEYWORDS_V0 = ['not', 'with', 'as', 'default', 'else', 'some', 'import', 'package', 'true', 'false', 'null'];
const FUTURE = ['in', 'every', 'contains', 'if'];
const VAR_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Cmt = Comment & { rendered: string };

class Writer {
  private out = '';
  private level = 0;
  private inline = false;
  private beforeEnd: Cmt | undefined;
  private delay = false;
  private lineStarts: number[] = [0];
  private comments: Cmt[];
  private regoV1: boolean;
  private ifs: boolean;
  private contains: boolean;
  private refHeads = false;
  private keywords: string[];

  constructor(private src: string, private spans: Spans, comments: Comment[], private mod: Module, target: 'v1' | 'v0' | 'v0v1') {
    for (let i = 0; i < src.length; i++) if (src[i] === '\n') this.lineStarts.push(i + 1);
    this.comments = comments.map((c) => ({ ...c, rendered: `#${c.text}`.replace(/\s+$/, '') }));
    this.regoV1 = target !== 'v0';
    const imported = new Set<string>();
    let regoV1Imported = false;
    for (const imp of mod.imports) {
      const p = importPath(imp);
      if (p === 'rego.v1') regoV1Imported = true;
      if (p === 'future.keywords') FUTURE.forEach((k) => imported.add(k));
      else if (p.startsWith('future.keywords.')) imported.add(p.slice(16));
    }
    this.ifs = this.regoV1 || regoV1Imported || imported.has('if');
    this.contains = this.regoV1 || regoV1Imported || imported.has('contains');
    this.keywords = this.regoV1 ? KEYWORDS_V1 : [...KEYWORDS_V0, ...FUTURE.filter((k) => imported.has(k))];
    for (const r of mod.rules) {
      const n = r.head.ref.length;
      if (n > 2 || (n === 2 && r.head.key && !r.head.value)) this.refHeads = true;
    }
    if (target === 'v0v1') this.ensureRegoV1Import();
    if (this.regoV1 || regoV1Imported || mod.imports.some((i) => importPath(i) === 'rego.v1')) {
      // rego.v1 makes future.keywords imports redundant: OPA drops them
      mod.imports = mod.imports.filter((i) => !importPath(i).startsWith('future.keywords') || !mod.imports.some((j) => importPath(j) === 'rego.v1'));
    }
  }

  private ensureRegoV1Import(): void {
    if (this.mod.imports.some((i) => importPath(i) === 'rego.v1')) return;
    // OPA 1.10 gives the added import the default location (row 1): it sorts first, in a group of its own
    const row = 1;
    const head: Term = { t: 'var', name: 'rego', loc: { file: '', row, col: 1 } };
    const imp: Import = { path: { t: 'ref', head, path: [{ t: 'scalar', v: 'v1', loc: head.loc }], loc: head.loc }, loc: { file: '', row, col: 1 } };
    this.synthetic.set(imp, row);
    this.mod.imports.push(imp);
  }

  /** nodes made here (the added `import rego.v1`): their row, and no text */
  private synthetic = new Map<object, number>();

  // ---------- positions ----------

  private rowOf(pos: number): number {
    let lo = 0, hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= pos) lo = mid; else hi = mid - 1;
    }
    return lo + 1;
  }

  private loc(n: object): Loc {
    const s = this.spans.get(n);
    if (s) {
      const row = this.rowOf(s[0]);
      return { row, col: s[0] - this.lineStarts[row - 1] + 1, text: this.src.slice(s[0], s[1]) };
    }
    const syn = this.synthetic.get(n);
    if (syn !== undefined) return { row: syn, col: 1, text: '' };
    const l = (n as { loc?: { row: number; col: number } }).loc;
    return { row: l?.row ?? 0, col: l?.col ?? 0, text: '' };
  }

  private endRow(n: object): number {
    const l = this.loc(n);
    return l.row + count(l.text.replace(/[ \t\r\n]+$/, ''), '\n');
  }

  // ---------- output ----------

  private write(s: string): void { this.out += s; }
  private startLine(): void { this.inline = true; this.write('\t'.repeat(this.level)); }
  private endLine(): void {
    this.inline = false;
    if (this.beforeEnd && !this.delay) { this.write(` ${this.beforeEnd.rendered}`); this.beforeEnd = undefined; }
    this.delay = false;
    this.write('\n');
  }
  private blankLine(): void { if (this.inline) this.endLine(); this.write('\n'); }
  private writeLine(s: string): void { if (!this.inline) this.startLine(); this.write(s); this.endLine(); }
  private up(): void { this.level++; }
  private down(): void { if (this.level > 0) this.level--; }

  // ---------- comments ----------

  private insertComments(row: number): void {
    const before: Cmt[] = [];
    let at: Cmt | undefined;
    const after: Cmt[] = [];
    for (const c of this.comments) {
      if (c.row < row) before.push(c); else if (c.row > row) after.push(c); else at = c;
    }
    this.comments = after;
    this.writeComments(before);
    if (before.length && row - before[before.length - 1].row > 1) this.blankLine();
    if (at) this.beforeEnd = at;
  }

  private writeComments(cs: Cmt[]): void {
    let inMeta = false;
    cs.forEach((c, i) => {
      if (i > 0) {
        const d = c.row - cs[i - 1].row;
        if (d > 1) { this.blankLine(); inMeta = false; } else if (d === 1 && inMeta && isMetadata(c)) this.blankLine();
      }
      if (isMetadata(c)) inMeta = true;
      this.writeLine(c.rendered);
    });
  }

  // ---------- module ----------

  module(): string {
    const m = this.mod;
    this.insertComments(m.packageLoc.row);
    this.startLine();
    this.write('package ');
    this.write(m.package.slice(1).map((p, i) => (i === 0 ? p : this.refKey(p, undefined))).join(''));
    this.blankLine();
    const others: (Import | Rule)[] = [...m.imports, ...m.rules.filter((r, i) => m.rules.indexOf(r) === i)];
    others.sort((a, b) => { const x = this.loc(a), y = this.loc(b); return x.row - y.row || x.col - y.col; });
    let i = 0;
    while (i < others.length) {
      const imps: Import[] = [];
      while (i < others.length && !('head' in others[i])) imps.push(others[i++] as Import);
      this.imports(imps);
      const rules: Rule[] = [];
      while (i < others.length && 'head' in others[i]) rules.push(others[i++] as Rule);
      this.rules(rules);
    }
    this.comments.forEach((c, j) => { this.writeLine(c.rendered); if (j === this.comments.length - 1) this.write('\n'); });
    return this.out.endsWith('\n') ? `${this.out.replace(/\n+$/, '')}\n` : this.out;
  }

  private imports(imps: Import[]): void {
    if (!imps.length) return;
    const byRow = new Map<Import, Cmt>();
    this.comments = this.comments.filter((c) => {
      const imp = imps.find((i) => this.loc(i).row === c.row);
      if (imp) byRow.set(imp, c);
      return !imp;
    });
    const groups: Import[][] = [[imps[0]]];
    for (const imp of imps.slice(1)) {
      const g = groups[groups.length - 1];
      if (this.loc(imp).row - this.loc(g[g.length - 1]).row > 1) groups.push([imp]); else g.push(imp);
    }
    for (const g of groups) {
      this.insertComments(this.loc(g[0]).row);
      g.sort((a, b) => cmpStr(importPath(a), importPath(b)) || cmpStr(a.alias ?? '', b.alias ?? ''));
      for (const imp of g) {
        this.startLine();
        this.write(`import ${this.refText(imp.path, importPath(imp).startsWith('future.'))}`);
        if (imp.alias) this.write(` as ${imp.alias}`);
        const c = byRow.get(imp);
        if (c) this.write(` ${c.rendered}`);
        this.endLine();
      }
      this.blankLine();
    }
  }

  private rules(rules: Rule[]): void {
    rules.forEach((r, i) => {
      this.insertComments(this.loc(r).row);
      this.rule(r, false);
      if (i < rules.length - 1 && this.groupable(r)) {
        const next = rules[i + 1];
        if (this.groupable(next) && this.loc(next).row === this.loc(r).row + 1) return;
      }
      this.blankLine();
    });
  }

  private groupable(r: Rule): boolean {
    if (r.body.length > 1 || r.isDefault) return false;
    return (this.regoV1 || this.ifs) && (this.contains || r.head.value !== undefined);
  }

  /** The body is the `true` the parser supplies for a rule written without one. */
  private impliedBody(r: Rule): boolean {
    return r.body.length === 1 && !this.spans.has(r.body[0]);
  }

  private rule(r: Rule, isElse: boolean): void {
    if (!isElse) this.startLine();
    if (r.isDefault) this.write('default ');
    const expandedConst = (this.impliedBody(r) || isTrueBody(r.body)) && !r.else;
    this.head(r.head, r.isDefault, expandedConst, isElse);
    if (r.body.length === 0 || expandedConst) { this.endLine(); return; }
    if ((this.regoV1 || this.ifs) && (this.contains || r.head.value !== undefined)) {
      this.write(' if');
      if (r.body.length === 1) {
        const e = r.body[0];
        if (this.loc(e).row === this.loc(r.head).row) {
          this.write(' ');
          this.expr(e);
          this.endLine();
          if (r.else) this.writeElse(r);
          return;
        }
      }
    }
    this.write(' {');
    this.endLine();
    this.up();
    this.body(r.body);
    this.insertComments(this.closingRow(r));
    this.down();
    this.startLine();
    this.write('}');
    if (r.else) this.writeElse(r);
  }

  /** Row of the `}` closing the rule body (OPA scans the rule's text for the braces). */
  private closingRow(r: Rule): number {
    const l = this.loc(r);
    const text = l.text;
    let i = 0, offset = 0;
    const skip = r.head.args?.length ? ['(', ')'] : r.head.key && !r.head.value && !this.contains ? ['[', ']'] : undefined;
    if (skip) {
      while (i < text.length && text[i] !== skip[0]) i++;
      let depth = 1;
      while (depth > 0) {
        i++;
        if (i >= text.length) break;
        if (text[i] === skip[0]) depth++; else if (text[i] === skip[1]) depth--; else if (text[i] === '\n') offset++;
      }
    }
    while (i < text.length && text[i] !== '{') i++;
    if (i >= text.length) return -1;
    let depth = 1;
    while (depth > 0) {
      i++;
      if (i >= text.length) return -1;
      if (text[i] === '{') depth++; else if (text[i] === '}') depth--; else if (text[i] === '\n') offset++;
    }
    return l.row + offset;
  }

  private writeElse(r: Rule): void {
    const e = r.else!;
    const rl = this.loc(r), el = this.loc(e);
    const lines = rl.text.split('\n');
    const rel = el.row - rl.row;
    const wasInline = rel > 0 && rel < lines.length && !lines[rel].trim().startsWith('else');
    const commentAbove = (this.comments.length > 0 && this.comments[0].row < el.row) || this.beforeEnd !== undefined;
    if (!commentAbove && wasInline) this.write(' ');
    else { this.blankLine(); this.startLine(); }
    this.insertComments(el.row);
    if (commentAbove && !wasInline) this.startLine();
    this.rule(e, true);
  }

  private head(h: RuleHead, isDefault: boolean, expandedConst: boolean, isElse: boolean): void {
    if (isElse) this.write('else');
    else {
      let ref = h.ref;
      if (this.refHeads || ref.length === 1) this.write(this.headRef(ref));
      else this.write(`${(ref[0] as { v: string }).v}[${this.termString(ref[1])}]`);
      if (h.args?.length) {
        this.write('(');
        this.iterable(h.args, this.loc(h), this.closingOf(this.loc(h), '(', ')'), (t) => this.term(t));
        this.write(')');
      }
      if (h.key) {
        if (this.contains && !h.value) { this.write(' contains '); this.term(h.key); }
        else if (!h.value) { this.write('['); this.term(h.key); this.write(']'); }
      }
    }
    const value = h.value;
    const op = h.assign || this.regoV1 ? ' := ' : ' = ';
    if (value) {
      if (!(h.key || !isTrue(value) || expandedConst || isDefault)) return;
      this.write(op);
      this.term(value);
      return;
    }
    // no value written: a partial set member has none; anything else is `true`, which OPA writes out for a
    // v1 rule without a body (`a.b.c := true`) and for an else without a body
    if (h.key || !(expandedConst || isDefault)) return;
    const v1RefConst = this.regoV1 && expandedConst && !h.args?.length;
    if (isElse || v1RefConst) this.write(`${op}true`);
  }

  private headRef(ref: Term[]): string {
    let s = (ref[0] as { v: string }).v;
    for (const p of ref.slice(1)) {
      if (p.t === 'scalar' && typeof p.v === 'string') s += this.refKey(p.v, p);
      else if (p.t === 'var') s += `[${p.name}]`;
      else s += `[${this.capture(() => this.term(p))}]`;
    }
    return s;
  }

  // ---------- bodies and expressions ----------

  private body(b: Body): void {
    if (b.length) this.insertComments(this.loc(b[0]).row);
    b.forEach((e, i) => {
      if (i > 0 && this.loc(e).row > this.endRowFull(b[i - 1]) + 1) this.blankLine();
      this.startLine();
      this.expr(e);
      this.endLine();
    });
  }

  /** Last row of an expression's text (withs included). */
  private endRowFull(e: Expr): number {
    const l = this.loc(e);
    return l.row + count(l.text, '\n');
  }

  private expr(e: Expr): void {
    this.insertComments(this.loc(e).row);
    if (!this.inline) this.startLine();
    if (e.negated) this.write('not ');
    switch (e.k) {
      case 'some':
        this.write('some ');
        e.vars.forEach((v, i) => { if (i > 0) this.write(', '); this.term(v); });
        break;
      case 'somein':
        this.write('some ');
        if (e.key) { this.termParens(true, e.key); this.write(', '); }
        this.termParens(true, e.value);
        this.write(' in ');
        this.termParens(true, e.coll);
        break;
      case 'every': {
        this.write('every ');
        if (e.key) { this.term(e.key); this.write(', '); }
        this.term(e.value);
        this.write(' in ');
        this.term(e.coll);
        this.write(' {');
        const l = this.loc(e);
        this.comprehensionBody(e.body, l, l, '{', '}');
        if (e.body.length === 1 && this.loc(e.body[0]).row === l.row) this.write(' ');
        this.write('}');
        break;
      }
      case 'unify': this.term(e.a); this.write(' = '); this.term(e.b); break;
      case 'assign': this.term(e.a); this.write(' := '); this.term(e.b); break;
      case 'term':
        if (e.term.t === 'call') this.functionCall(e.term);
        else this.term(e.term);
        break;
    }
    if (e.with.length) this.withs(e);
  }

  private withs(e: Expr): void {
    let withs = e.with;
    const l = this.loc(e);
    let text = l.text;
    const w0 = this.spans.get(withs[0]), es = this.spans.get(e);
    if (w0 && es && w0[0] > es[0]) text = text.slice(0, w0[0] - es[0]);
    let lastRow = l.row + count(text.replace(/[ \t\r\n]+$/, ''), '\n');
    if (this.loc(withs[0]).row === lastRow) { this.with(withs[0], false); lastRow = this.loc(withs[0]).row; withs = withs.slice(1); }
    let indented = false;
    for (const w of withs) {
      const indent = this.loc(w).row > lastRow;
      if (indent) {
        if (!indented) { this.up(); indented = true; }
        this.endLine();
        this.startLine();
        lastRow = this.loc(w).row;
      }
      this.with(w, indent);
    }
    if (indented) this.down();
  }

  private with(w: With, indented: boolean): void {
    this.insertComments(this.loc(w).row);
    if (!indented) this.write(' ');
    this.write('with ');
    this.term(w.target);
    this.write(' as ');
    this.term(w.value);
  }

  /** A call written as an expression: infix operators without parentheses around the operation itself. */
  private functionCall(t: Term & { t: 'call' }): void {
    if (t.op === 'internal.member_2' || t.op === 'internal.member_3') return this.inOperator(false, t.args);
    const infix = INFIX[t.op];
    const arity = BUILTINS[t.op]?.args.length;
    if (infix && t.args.length === arity) {
      this.term(t.args[0]); this.write(` ${infix} `); this.term(t.args[1]);
      return;
    }
    if (infix && arity !== undefined && t.args.length === arity + 1) {
      this.term(t.args[2]); this.write(' = '); this.term(t.args[0]); this.write(` ${infix} `); this.term(t.args[1]);
      return;
    }
    this.callPlain(t);
  }

  private callPlain(t: Term & { t: 'call' }): void {
    this.write(this.opText(t.op));
    this.write('(');
    const l = this.loc(t);
    this.iterable(t.args, l, this.closingOf(l, '(', ')'), (a) => this.listItem(a));
    this.write(')');
  }

  private opText(op: string): string {
    const [first, ...rest] = op.split('.');
    return first + rest.map((p) => this.refKey(p, undefined)).join('');
  }

  private inOperator(parens: boolean, args: Term[]): void {
    if (args.length === 2) {
      this.termParens(true, args[0]); this.write(' in '); this.termParens(true, args[1]);
      return;
    }
    if (parens) this.write('(');
    this.termParens(true, args[0]); this.write(', '); this.termParens(true, args[1]); this.write(' in '); this.termParens(true, args[2]);
    if (parens) this.write(')');
  }

  // ---------- terms ----------

  private term(t: Term): void { this.termParens(false, t); }

  private termParens(parens: boolean, t: Term): void {
    this.insertComments(this.loc(t).row);
    if (!this.inline) this.startLine();
    switch (t.t) {
      case 'ref': this.ref(t); break;
      case 'object': {
        this.write('{');
        const l = this.loc(t);
        this.iterable(t.items, l, this.closingOf(l, '{', '}'), ([k, v]) => {
          this.listItem(k);
          this.write(': ');
          this.listItem(v);
        }, ([k]) => k);
        this.write('}');
        break;
      }
      case 'array': {
        this.write('[');
        const l = this.loc(t);
        this.iterable(t.items, l, this.closingOf(l, '[', ']'), (x) => this.listItem(x));
        this.write(']');
        break;
      }
      case 'set': {
        if (!t.items.length) { this.write('set()'); break; }
        this.write('{');
        const l = this.loc(t);
        this.iterable(t.items, l, this.closingOf(l, '{', '}'), (x) => this.listItem(x));
        this.write('}');
        break;
      }
      case 'arraycomp': this.write('['); this.comprehension(t.head, t.body, this.loc(t), '[', ']'); this.write(']'); break;
      case 'setcomp': this.write('{'); this.comprehension(t.head, t.body, this.loc(t), '{', '}'); this.write('}'); break;
      case 'objcomp': {
        this.write('{');
        const l = this.loc(t);
        if (this.loc(t.key).row - l.row > 1) { this.endLine(); this.startLine(); }
        this.term(t.key);
        this.write(': ');
        this.comprehension(t.value, t.body, l, '{', '}', this.loc(t.key));
        this.write('}');
        break;
      }
      case 'call': this.call(parens, t); break;
      case 'var': this.write(t.name); break;
      case 'scalar': case 'const': this.write(this.scalarText(t)); break;
      case 'template': this.write(this.loc(t).text || '$""'); break;
      case 'withterm': this.term(t.term); break;
    }
    if (!this.inline) this.startLine();
  }

  private scalarText(t: Term & { t: 'scalar' | 'const' }): string {
    const text = this.loc(t).text;
    if (typeof t.v === 'string') {
      if (text.startsWith('`')) return text;
      const q = text.indexOf('"');
      return q >= 0 && text.endsWith('"') ? text.slice(q) : JSON.stringify(t.v);
    }
    if (text && (typeof t.v !== 'boolean' && t.v !== null)) return text;
    return t.v === null ? 'null' : String(t.v);
  }

  private call(parens: boolean, t: Term & { t: 'call' }): void {
    const infix = INFIX[t.op];
    if (t.op === 'internal.member_2' || t.op === 'internal.member_3') return this.inOperator(true, t.args);
    if (!infix || BUILTINS[t.op]?.args.length !== t.args.length) return this.callPlain(t);
    if (parens) this.write('(');
    this.termParens(true, t.args[0]);
    this.write(` ${infix} `);
    this.termParens(true, t.args[1]);
    if (parens) this.write(')');
  }

  /** A collection member or call argument: a set union written in parentheses keeps them. */
  private listItem(t: Term): void {
    const p = isUnion(t) && this.loc(t).text.startsWith('(');
    if (p) this.write('(');
    this.term(t);
    if (p) this.write(')');
  }

  private ref(t: Term & { t: 'ref' }): void {
    const parens = t.head.t === 'call' && this.loc(t.head).text.startsWith('(');
    this.termParens(parens, t.head);
    for (const p of t.path) {
      if (p.t === 'scalar' && typeof p.v === 'string') this.write(this.refKey(p.v, p));
      else if (p.t === 'var') this.write(`[${p.name}]`);
      else { this.write('['); this.term(p); this.write(']'); }
    }
  }

  /** `.key`, or `["key"]` when the key is no identifier or is a keyword written quoted */
  private refKey(key: string, t: Term | undefined): string {
    if (!VAR_RE.test(key)) return `[${JSON.stringify(key)}]`;
    if (this.keywords.includes(key) && t && this.loc(t).text.startsWith('"')) return `[${JSON.stringify(key)}]`;
    return `.${key}`;
  }

  private refText(t: Term, future: boolean): string {
    void future;
    return this.capture(() => this.term(t));
  }

  private termString(t: Term): string {
    if (t.t === 'scalar' && typeof t.v === 'string') return JSON.stringify(t.v);
    return this.capture(() => this.term(t));
  }

  /** Output of `f` written to a scratch buffer. */
  private capture(f: () => void): string {
    const saved = this.out, inl = this.inline;
    this.out = '';
    this.inline = true;
    f();
    const s = this.out;
    this.out = saved;
    this.inline = inl;
    return s;
  }

  private comprehension(head: Term, body: Body, l: Loc, open: string, close: string, headLoc?: Loc): void {
    const hl = headLoc ?? this.loc(head);
    if (hl.row - l.row >= 1) { this.endLine(); this.startLine(); }
    const parens = head.t === 'call' && this.loc(head).text.startsWith('(');
    this.termParens(parens, head);
    this.write(' |');
    this.comprehensionBody(body, hl, l, open, close);
  }

  private comprehensionBody(body: Body, term: Loc, compr: Loc, open: string, close: string): void {
    const lines = this.groupRows(body.map((e) => this.loc(e).row), term.row);
    if (this.loc(body[0]).row - term.row > 0 || lines > 1) {
      this.endLine();
      this.up();
      this.body(body);
      this.insertComments(this.closingOf(compr, open, close));
      this.down();
      this.startLine();
      return;
    }
    this.write(' ');
    body.forEach((e, i) => { if (i > 0) this.write('; '); this.expr(e); });
    this.insertComments(this.closingOf(compr, open, close));
  }

  /** Number of lines `rows` (sorted) make when a row after the previous one starts a new line. */
  private groupRows(rows: number[], first: number): number {
    const sorted = [...rows].sort((a, b) => a - b);
    let lines = 1, last = first;
    sorted.forEach((r, i) => { if (r - last > 0 && i > 0) lines++; last = r; });
    return lines;
  }

  /** Row of the bracket closing the first `open` in a node's text. */
  private closingOf(l: Loc, open: string, close: string): number {
    const text = l.text;
    let i = text.indexOf(open);
    if (i < 0) return -1;
    let depth = 1, offset = 0;
    while (depth > 0) {
      i++;
      if (i >= text.length) return -1;
      if (text[i] === open) depth++; else if (text[i] === close) depth--; else if (text[i] === '\n') offset++;
    }
    return l.row + offset;
  }

  /** A collection's members, one line per source line; multi-line collections get a trailing comma. */
  private iterable<T>(elems: T[], container: Loc, closeRow: number, write: (x: T) => void, locOf: (x: T) => object = (x) => x as object): void {
    // OPA keeps members holding generated vars (__localN__) on one line: their positions are not the source's
    if (elems.some((x) => hasGeneratedVar(x as unknown as Term | [Term, Term]))) {
      elems.forEach((x, j) => { if (j > 0) this.write(', '); write(x); });
      return;
    }
    const sorted = [...elems].sort((a, b) => { const x = this.loc(locOf(a)), y = this.loc(locOf(b)); return x.row - y.row || x.col - y.col; });
    const lines: T[][] = [];
    let cur: T[] = [];
    let last = container.row;
    sorted.forEach((x, i) => {
      const r = this.loc(locOf(x)).row;
      if (r - last > 0 && i > 0) { lines.push(cur); cur = []; }
      last = r;
      cur.push(x);
    });
    lines.push(cur);
    const multi = lines.length > 1;
    if (multi) { this.delay = true; this.endLine(); this.up(); this.startLine(); }
    lines.forEach((line, i) => {
      line.forEach((x, j) => { if (j > 0) this.write(', '); write(x); });
      if (i < lines.length - 1) { this.write(','); this.endLine(); this.startLine(); }
    });
    if (multi) {
      this.write(',');
      this.endLine();
      this.insertComments(closeRow);
      this.down();
      this.startLine();
    }
  }
}

function count(s: string, c: string): number {
  let n = 0;
  for (const ch of s) if (ch === c) n++;
  return n;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function importPath(imp: Import): string {
  return pathText(imp.path);
}

function isMetadata(c: Comment): boolean {
  return c.text.trim() === 'METADATA';
}

function isTrue(t: Term): boolean {
  return (t.t === 'scalar' || t.t === 'const') && t.v === true;
}

function isTrueBody(b: Body): boolean {
  return b.length === 1 && b[0].k === 'term' && !b[0].negated && !b[0].with.length && isTrue(b[0].term);
}

function hasGeneratedVar(x: Term | [Term, Term]): boolean {
  if (Array.isArray(x)) return x.some(hasGeneratedVar);
  let found = false;
  const visit = (v: unknown): void => {
    if (found || !v || typeof v !== 'object') return;
    if (Array.isArray(v)) { v.forEach(visit); return; }
    const o = v as Record<string, unknown>;
    if (o.t === 'var' && typeof o.name === 'string' && o.name.startsWith('__local')) { found = true; return; }
    for (const k of ['head', 'path', 'items', 'args', 'key', 'value', 'term', 'body', 'a', 'b', 'coll', 'vars', 'parts']) visit(o[k]);
  };
  visit(x);
  return found;
}

function isUnion(t: Term): boolean {
  return t.t === 'call' && t.op === 'or';
}

