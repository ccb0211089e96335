/** Recursive-descent parser for Rego v1 and v0 syntax. Every failure is a RegoError(rego_parse_error). */
import { parse as parseYaml } from 'yaml';
import type { Annotations, Body, Expr, ExprKind, Import, Module, Rule, RuleHead, Term, With } from './ast.js';
import { RegoError, type Location } from './errors.js';
import { tokenize, type Comment, type Token } from './lexer.js';
import { numFromString } from './num.js';

export type RegoVersion = 'v0' | 'v1';

const FUTURE_KEYWORDS = ['in', 'every', 'contains', 'if'];

const INFIX: Record<string, string> = {
  '==': 'equal', '!=': 'neq', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte',
  '+': 'plus', '-': 'minus', '*': 'mul', '/': 'div', '%': 'rem', '&': 'and', '|': 'or',
};

/** Operator tokens as OPA's scanner names them in parse errors. */
const OP_TOKEN_NAMES: Record<string, string> = {
  ':=': 'assign', '=': 'eq', '==': 'equal', '!=': 'neq', '+': 'plus', '-': 'minus', '*': 'mul', '/': 'div', '%': 'rem',
  '&': 'and', '|': 'or', '<': 'lt', '>': 'gt', '<=': 'lte', '>=': 'gte',
};

class Parser {
  private toks: Token[];
  private comments: Comment[];
  private i = 0;
  readonly keywords = new Set<string>();
  regoV1Import = false;
  /** source ranges [start, end) of terms, expressions, heads, rules and withs, kept for `rego fmt` */
  spans: Spans | undefined;

  constructor(src: string, private file: string, private version: RegoVersion, rowBase = 1, colBase = 1) {
    const r = tokenize(src, file, rowBase, colBase);
    this.toks = r.tokens;
    this.comments = r.comments;
    if (version === 'v1') for (const k of FUTURE_KEYWORDS) this.keywords.add(k);
  }

  private get tok(): Token { return this.toks[this.i]; }
  private atEnd(): boolean { return this.toks[this.i].kind === 'eof'; }
  private peek(n = 1): Token { return this.toks[Math.min(this.i + n, this.toks.length - 1)]; }
  private loc(t: Token = this.tok): Location { return { file: this.file, row: t.row, col: t.col }; }
  private next(): Token { const t = this.tok; if (this.i < this.toks.length - 1) this.i++; return t; }
  /** Records `node`'s source range from `start` to the end of the last token read (when keeping spans). */
  private mark<T extends object>(node: T, start: number): T {
    if (this.spans && this.i > 0) this.spans.set(node, [start, this.toks[this.i - 1].end]);
    return node;
  }
  get commentList(): Comment[] { return this.comments; }

  fail(msg: string, t: Token = this.tok): never {
    throw RegoError.single('rego_parse_error', msg, this.loc(t));
  }
  private isOp(text: string, t: Token = this.tok): boolean { return t.kind === 'op' && t.text === text; }
  /** A keyword used as the head of a reference, e.g. `else.foo` or `true.bar(1)`. */
  private kwAsRef(offset = 0): boolean {
    const t = this.peek(offset), n = this.peek(offset + 1);
    return t.kind === 'ident' && n.kind === 'op' && n.text === '.' && n.pos === t.end;
  }
  private isKw(kw: string, t: Token = this.tok): boolean {
    if (t.kind !== 'ident' || t.text !== kw || !this.keywords.has(kw)) return false;
    return !(t === this.tok && this.kwAsRef());
  }
  private isIdent(text: string, t: Token = this.tok): boolean {
    return t.kind === 'ident' && t.text === text && !(t === this.tok && this.kwAsRef());
  }
  private expectOp(text: string): Token {
    if (!this.isOp(text)) this.fail(`unexpected ${this.describe(this.tok)} token: expected ${text}`);
    return this.next();
  }
  private describe(t: Token): string {
    if (t.kind === 'eof') return 'eof';
    if (t.kind === 'ident') return `ident`;
    if (t.kind === 'string' || t.kind === 'rawstring') return 'string';
    if (t.kind === 'number') return 'number';
    return OP_TOKEN_NAMES[t.text] ?? t.text;
  }

  // ---------- module ----------

  parseModule(): Module {
    while (this.tok.kind !== 'eof' && !this.isIdent('package')) this.fail('package expected');
    const pkgTok = this.next();
    const pkgRef = this.parseRefTerm();
    const pkg = refToPath(pkgRef, (m) => this.fail(m, pkgTok));
    if (pkg.length === 0) this.fail('package expected', pkgTok);
    const mod: Module = { file: this.file, package: ['data', ...pkg], packageLoc: this.loc(pkgTok), imports: [], rules: [], annotations: [], regoV1: this.version === 'v1' };
    const annots = this.collectAnnotations();
    const pkgAnnot = annots.get(pkgTok.row);
    if (pkgAnnot) { if (!pkgAnnot.data.scope) pkgAnnot.scope = 'package'; mod.annotations.push(pkgAnnot); }
    while (this.isIdent('import')) mod.imports.push(this.parseImport());
    mod.regoV1 = this.version === 'v1' || this.regoV1Import;
    while (this.tok.kind !== 'eof') {
      // OPA accepts imports between and after rules too
      if (this.isIdent('import')) { mod.imports.push(this.parseImport()); continue; }
      const startTok = this.tok;
      const rules = this.parseRules(mod);
      for (const r of rules) this.mark(r, startTok.pos);
      const a = annots.get(startTok.row);
      if (a) { rules[0].annotations = a; mod.annotations.push(a); }
      mod.rules.push(...rules);
      if (!this.atEnd() && !this.tok.nl && !this.isOp(';')) this.fail(`unexpected ${this.describe(this.tok)} token`);
      if (this.isOp(';')) this.next();
    }
    mod.regoV1 = this.version === 'v1' || this.regoV1Import;
    return mod;
  }

  /** METADATA blocks keyed by the row of the statement that follows them. */
  private collectAnnotations(): Map<number, Annotations> {
    const out = new Map<number, Annotations>();
    const cs = this.comments;
    for (let j = 0; j < cs.length; j++) {
      if (cs[j].text.trim() !== 'METADATA') continue;
      const start = cs[j];
      const lines: string[] = [];
      let row = start.row;
      let k = j + 1;
      while (k < cs.length && cs[k].row === row + 1) { lines.push(cs[k].text.startsWith(' ') ? cs[k].text.slice(1) : cs[k].text); row = cs[k].row; k++; }
      let data: unknown;
      try { data = parseYaml(lines.join('\n')) ?? {}; } catch (e) {
        throw RegoError.single('rego_parse_error', `yaml: ${(e as Error).message.split('\n')[0]}`, { file: this.file, row: start.row, col: start.col });
      }
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw RegoError.single('rego_parse_error', 'invalid METADATA block', { file: this.file, row: start.row, col: start.col });
      }
      const d = data as Record<string, unknown>;
      out.set(row + 1, { scope: typeof d.scope === 'string' ? d.scope : 'rule', data: d, loc: { file: this.file, row: start.row, col: start.col } });
    }
    return out;
  }

  private parseImport(): Import {
    const t = this.next();
    const path = this.parseRefTerm();
    const segs = refToPath(path, (m) => this.fail(m, t));
    const head = path.t === 'var' ? path.name : path.t === 'ref' && path.head.t === 'var' ? path.head.name : '';
    if (head === 'future') {
      if (segs[0] !== 'future' || segs[1] !== 'keywords' || segs.length > 3) this.fail('invalid import, must be `future.keywords` or `future.keywords.<name>`', t);
      const kws = segs.length === 3 ? [segs[2]] : FUTURE_KEYWORDS;
      for (const k of kws) {
        if (!FUTURE_KEYWORDS.includes(k)) this.fail(`unexpected keyword, must be one of [contains every if in]`, t);
        this.keywords.add(k);
        // `every x in xs` needs `in`: importing every imports in too, as OPA does
        if (k === 'every') this.keywords.add('in');
      }
    } else if (head === 'rego') {
      if (segs.join('.') !== 'rego.v1') this.fail('invalid import `' + segs.join('.') + '`, must be `rego.v1`', t);
      for (const k of FUTURE_KEYWORDS) this.keywords.add(k);
      this.regoV1Import = true;
    } else if (head !== 'data' && head !== 'input') {
      this.fail(`unexpected import path, must begin with one of: {data, input}, got: ${head}`, t);
    }
    let alias: string | undefined;
    if (this.isIdent('as')) {
      this.next();
      if (this.tok.kind !== 'ident') this.fail('expected alias name');
      alias = this.next().text;
    }
    return this.mark({ path, alias, loc: this.loc(t) }, t.pos);
  }

  /** A plain reference: ident(.ident | [term])* */
  private parseRefTerm(): Term {
    if (this.tok.kind !== 'ident') this.fail(`unexpected ${this.describe(this.tok)} token: expected ident`);
    const t = this.next();
    const head: Term = this.mark({ t: 'var', name: t.text, loc: this.loc(t) }, t.pos);
    const path: Term[] = [];
    for (;;) {
      if (this.isOp('.') && !this.tok.nl) {
        this.next();
        if (this.tok.kind !== 'ident') this.fail(`unexpected ${this.describe(this.tok)} token: expected ident`);
        const f = this.next();
        path.push(this.mark({ t: 'scalar', v: f.text, loc: this.loc(f) }, f.pos));
      } else if (this.isOp('[') && !this.tok.nl) {
        this.next();
        path.push(this.parseTermIn());
        this.expectOp(']');
      } else break;
    }
    return this.mark(path.length ? { t: 'ref', head, path, loc: head.loc } : head, t.pos);
  }

  // ---------- rules ----------

  private parseRules(mod: Module): Rule[] {
    const startTok = this.tok;
    let isDefault = false;
    if (this.isIdent('default') && this.peek().kind === 'ident' && !this.peek().nl) { this.next(); isDefault = true; }
    if (this.tok.kind !== 'ident') this.fail(`unexpected ${this.describe(this.tok)} token`);
    const head = this.mark(this.parseHead(isDefault), startTok.pos);
    const loc = this.loc(startTok);
    if (isDefault) {
      if (!head.value) this.fail('default rule must have a value', startTok);
      return [{ head, body: [], isDefault: true, loc, module: mod }];
    }
    const rules: Rule[] = [];
    let body: Body;
    const hasIf = this.isKw('if');
    if (hasIf) {
      this.next();
      body = this.isOp('{') ? this.parseBraceBodyOrTerm() : [this.parseExpr()];
    } else if (this.isOp('{') && !this.tok.nl) {
      if (this.version === 'v1' || this.regoV1Import) this.fail('`if` keyword is required before rule body');
      body = this.parseBraceBody();
    } else {
      if (!head.value && !head.key) {
        if (this.version === 'v1' || this.regoV1Import) {
          if (head.args) this.fail('rule must have a body or value', startTok);
          if (head.ref.length === 1) this.fail(`rule must have value assigned`, startTok);
        }
      }
      body = [{ k: 'term', term: { t: 'scalar', v: true, loc }, negated: false, with: [], loc }];
    }
    const rule: Rule = { head, body, isDefault: false, loc, module: mod };
    rules.push(rule);
    // v0: extra bodies `p { a } { b }`
    while (this.isOp('{') && !this.tok.nl && !hasIf) {
      rules.push({ head, body: this.parseBraceBody(), isDefault: false, loc, module: mod });
    }
    let cur = rule;
    while (this.isIdent('else')) {
      const et = this.next();
      const eh: RuleHead = { ref: head.ref, args: head.args, assign: head.assign };
      if (this.isOp('=') || this.isOp(':=')) { eh.assign = this.next().text === ':='; eh.value = this.parseTermIn(); }
      this.mark(eh, et.pos);
      let ebody: Body;
      if (this.isKw('if')) {
        this.next();
        ebody = this.isOp('{') ? this.parseBraceBody() : [this.parseExpr()];
      } else if (this.isOp('{')) {
        ebody = this.parseBraceBody();
      } else {
        ebody = [{ k: 'term', term: { t: 'scalar', v: true, loc: this.loc(et) }, negated: false, with: [], loc: this.loc(et) }];
      }
      cur.else = this.mark({ head: eh, body: ebody, isDefault: false, loc: this.loc(et), module: mod }, et.pos);
      cur = cur.else;
    }
    return rules;
  }

  private parseHead(isDefault: boolean): RuleHead {
    const nameTok = this.next();
    const ref: Term[] = [this.mark({ t: 'scalar', v: nameTok.text, loc: this.loc(nameTok) }, nameTok.pos)];
    let lastBracket = false;
    for (;;) {
      if (this.isOp('.') && !this.tok.nl) {
        this.next();
        if (this.tok.kind !== 'ident') this.fail(`unexpected ${this.describe(this.tok)} token: expected ident`);
        const f = this.next();
        ref.push(this.mark({ t: 'scalar', v: f.text, loc: this.loc(f) }, f.pos));
        lastBracket = false;
      } else if (this.isOp('[') && !this.tok.nl) {
        this.next();
        ref.push(this.parseTermIn());
        this.expectOp(']');
        lastBracket = true;
      } else break;
    }
    const head: RuleHead = { ref, assign: false };
    if (this.isOp('(') && !this.tok.nl) {
      this.next();
      head.args = [];
      while (!this.isOp(')')) {
        head.args.push(this.parseTermIn());
        if (!this.isOp(',')) break;
        this.next();
      }
      this.expectOp(')');
    }
    if (this.isKw('contains')) {
      this.next();
      head.key = this.parseTermIn();
      return head;
    }
    if (this.isOp('=') || this.isOp(':=')) {
      head.assign = this.next().text === ':=';
      head.value = this.parseTermIn();
    } else if (!isDefault && lastBracket && ref.length === 2 && !head.args && this.version === 'v0' && !this.regoV1Import) {
      // v0 partial set: p[x] { ... }; a longer ref (p.q[x], p[x][y]) is a partial object whose leaves are true
      head.key = ref.pop()!;
    }
    return head;
  }

  /**
   * After `if`, as OPA's parser decides: a single expression when one parses and is not a set literal
   * (`p if { x | ... }` is a set comprehension, `p if {"a": 1}` an object), else `{ body }`.
   */
  private parseBraceBodyOrTerm(): Body {
    const save = this.i;
    try {
      const e = this.parseExpr();
      if (!(e.k === 'term' && e.term.t === 'set') && (this.atEnd() || this.tok.nl || this.isOp(';') || this.isIdent('else'))) return [e];
    } catch (e) {
      if (!(e instanceof RegoError)) throw e;
    }
    this.i = save;
    return this.parseBraceBody();
  }

  private parseBraceBody(): Body {
    this.expectOp('{');
    const body = this.parseBodyUntil('}');
    this.expectOp('}');
    if (body.length === 0) this.fail('found empty body');
    return body;
  }

  private parseBodyUntil(end: string | null): Body {
    const body: Body = [];
    for (;;) {
      if (end ? this.isOp(end) : this.tok.kind === 'eof') break;
      body.push(this.parseExpr());
      if (this.isOp(';')) { this.next(); continue; }
      if (end ? this.isOp(end) : this.tok.kind === 'eof') break;
      if (!this.tok.nl) this.fail(`unexpected ${this.describe(this.tok)} token`);
    }
    return body;
  }

  // ---------- expressions ----------

  parseQuery(): Body {
    const body = this.parseBodyUntil(null);
    if (body.length === 0) this.fail('empty query');
    return body;
  }

  /** `not`/`some` act as keywords unless used as a name (`some[x]`, `not = 1`, `not.x`). */
  private keywordHere(): boolean {
    const t = this.tok, n = this.peek();
    if (n.kind !== 'op') return true;
    if (n.text === '=' || n.text === ':=' || n.text === '==' || n.text === ')' || n.text === ',' || n.text === '}' || n.text === ']') return false;
    if ((n.text === '.' || n.text === '[') && n.pos === t.end) return false;
    return true;
  }

  parseExpr(): Expr {
    const start = this.tok;
    const loc = this.loc(start);
    let negated = false;
    if (this.isIdent('not') && this.keywordHere()) { this.next(); negated = true; }
    let kind: ExprKind;
    if (this.isIdent('some') && this.peek().kind !== 'eof' && this.keywordHere()) {
      this.next();
      kind = this.parseSome();
    } else if (this.isKw('every')) {
      this.next();
      kind = this.parseEvery();
    } else {
      const a = this.parseTermIn();
      if (this.isOp(',') && this.keywords.has('in')) {
        kind = { k: 'term', term: this.parseMember3(a) };
      } else if (this.isOp('=')) {
        this.next();
        kind = { k: 'unify', a, b: this.parseTermIn() };
      } else if (this.isOp(':=')) {
        this.next();
        kind = { k: 'assign', a, b: this.parseTermIn() };
      } else {
        kind = { k: 'term', term: a };
      }
    }
    return this.mark({ ...kind, negated, with: this.parseWiths(), loc }, start.pos);
  }

  parseWiths(): With[] {
    const withs: With[] = [];
    while (this.isIdent('with')) {
      const wt = this.next();
      const target = this.parseRefTerm();
      if (!this.isIdent('as')) this.fail('expected as');
      this.next();
      withs.push(this.mark({ target, value: this.parseTermIn(), loc: this.loc(wt) }, wt.pos));
    }
    return withs;
  }

  /** `key, value in coll` (after `key`), then any further `in` applied to the result. */
  private parseMember3(key: Term): Term {
    const comma = this.i;
    this.next();
    const v = this.parseTermRel();
    if (!this.isKw('in')) {
      // not `key, value in coll`: the error is the comma (which may end a collection item, see parseArray)
      this.i = comma;
      this.fail('unexpected , token');
    }
    this.next();
    const start = this.spans?.get(key)?.[0] ?? 0;
    let t: Term = this.mark({ t: 'call', op: 'internal.member_3', args: [key, v, this.parseTermRel()], loc: key.loc }, start);
    while (this.isKw('in')) {
      this.next();
      t = this.mark({ t: 'call', op: 'internal.member_2', args: [t, this.parseTermRel()], loc: key.loc }, start);
    }
    return t;
  }

  private parseSome(): ExprKind {
    const first = this.parseTermRel();
    if (this.isOp(',') || this.isKw('in')) {
      const terms = [first];
      while (this.isOp(',')) { this.next(); terms.push(this.parseTermRel()); }
      if (this.isKw('in')) {
        if (terms.length > 2) this.fail('unexpected , token');
        this.next();
        const coll = this.parseTermRel();
        return terms.length === 2 ? { k: 'somein', key: terms[0], value: terms[1], coll } : { k: 'somein', value: terms[0], coll };
      }
      for (const t of terms) if (t.t !== 'var') this.fail('expected var');
      return { k: 'some', vars: terms };
    }
    if (first.t !== 'var') this.fail('expected var');
    return { k: 'some', vars: [first] };
  }

  private parseEvery(): ExprKind {
    let key: Term | undefined;
    let value = this.parseTermRel();
    if (this.isOp(',')) { this.next(); key = value; value = this.parseTermRel(); }
    if (!this.isKw('in')) this.fail('expected `in` after `every`');
    this.next();
    const coll = this.parseTermRel();
    const body = this.parseBraceBody();
    return { k: 'every', key, value, coll, body };
  }

  // precedence: in < relation < | < & < + - < * / % < term
  parseTermIn(noOr = false): Term {
    const start = this.tok.pos;
    let left = this.parseTermRel(noOr);
    while (this.isKw('in')) {
      this.next();
      const right = this.parseTermRel(noOr);
      left = this.mark({ t: 'call', op: 'internal.member_2', args: [left, right], loc: left.loc }, start);
    }
    return left;
  }

  private parseTermRel(noOr = false): Term {
    const start = this.tok.pos;
    let left = this.parseTermOr(noOr);
    while (this.tok.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(this.tok.text)) {
      const op = this.next().text;
      const right = this.parseTermOr(noOr);
      left = this.mark({ t: 'call', op: INFIX[op], args: [left, right], loc: left.loc }, start);
    }
    return left;
  }

  private parseTermOr(noOr: boolean): Term {
    const start = this.tok.pos;
    let left = this.parseTermAnd();
    while (!noOr && this.isOp('|')) {
      this.next();
      const right = this.parseTermAnd();
      left = this.mark({ t: 'call', op: 'or', args: [left, right], loc: left.loc }, start);
    }
    return left;
  }

  private parseTermAnd(): Term {
    const start = this.tok.pos;
    let left = this.parseTermArith();
    while (this.isOp('&')) {
      this.next();
      const right = this.parseTermArith();
      left = this.mark({ t: 'call', op: 'and', args: [left, right], loc: left.loc }, start);
    }
    return left;
  }

  private parseTermArith(): Term {
    const start = this.tok.pos;
    let left = this.parseTermFactor();
    while ((this.isOp('+') || this.isOp('-')) && !this.tok.nl) {
      const op = this.next().text;
      const right = this.parseTermFactor();
      left = this.mark({ t: 'call', op: INFIX[op], args: [left, right], loc: left.loc }, start);
    }
    return left;
  }

  private parseTermFactor(): Term {
    const start = this.tok.pos;
    let left = this.parseTerm();
    while ((this.isOp('*') || this.isOp('/') || this.isOp('%')) && !this.tok.nl) {
      const op = this.next().text;
      const right = this.parseTerm();
      left = this.mark({ t: 'call', op: INFIX[op], args: [left, right], loc: left.loc }, start);
    }
    return left;
  }

  private depth = 0;

  parseTerm(): Term {
    if (++this.depth > 500) this.fail('term nested too deeply');
    try {
      const start = this.tok.pos;
      return this.parsePostfix(this.mark(this.parsePrimary(), start), start);
    } finally {
      this.depth--;
    }
  }

  private parsePrimary(): Term {
    const t = this.tok;
    const loc = this.loc(t);
    switch (t.kind) {
      case 'number': {
        this.next();
        const n = numFromString(t.text);
        if (n === undefined) this.fail('illegal number format', t);
        return { t: 'scalar', v: n!, loc };
      }
      case 'string': case 'rawstring':
        this.next();
        return { t: 'scalar', v: t.value!, loc };
      case 'template':
        this.next();
        return this.parseTemplate(t);
      case 'ident': {
        this.next();
        const asRef = this.isOp('.') && this.tok.pos === t.end;
        if (!asRef && (t.text === 'true' || t.text === 'false')) return { t: 'scalar', v: t.text === 'true', loc };
        if (!asRef && t.text === 'null') return { t: 'scalar', v: null, loc };
        if (t.text === 'set' && this.isOp('(') && this.isOp(')', this.peek()) && !this.tok.nl) {
          this.next(); this.next();
          return { t: 'set', items: [], loc };
        }
        if (this.isReservedInTerm(t.text) && !asRef && !(this.isOp('(') && !this.tok.nl)) this.fail(`unexpected ${t.text} keyword`, t);
        return { t: 'var', name: t.text, loc };
      }
      case 'op':
        if (t.text === '-' && this.peek().kind === 'number' && this.peek().pos === t.end) {
          this.next();
          const nt = this.next();
          const n = numFromString('-' + nt.text);
          if (n === undefined) this.fail('illegal number format', nt);
          return { t: 'scalar', v: n!, loc };
        }
        if (t.text === '-') {
          this.next();
          const operand = this.parseTerm();
          return { t: 'call', op: 'minus', args: [{ t: 'scalar', v: 0, loc }, operand], loc };
        }
        if (t.text === '(') {
          this.next();
          let inner = this.parseTermIn();
          if (this.isOp(',') && this.keywords.has('in')) inner = this.parseMember3(inner);
          this.expectOp(')');
          return inner;
        }
        if (t.text === '[') return this.parseArray();
        if (t.text === '{') return this.parseBrace();
        break;
    }
    return this.fail(`unexpected ${this.describe(t)} token`, t);
  }

  private isReservedInTerm(name: string): boolean {
    if (name === 'not' || name === 'with' || name === 'else' || name === 'package' || name === 'import' || name === 'default' || name === 'as') return false;
    return this.keywords.has(name) && (name === 'if' || name === 'contains' || name === 'every' || name === 'in');
  }

  private parsePostfix(term: Term, start: number): Term {
    for (;;) {
      if (this.isOp('.') && !this.tok.nl) {
        this.next();
        if (this.tok.kind !== 'ident') this.fail(`unexpected ${this.describe(this.tok)} token: expected ident`);
        const f = this.next();
        term = this.mark(appendRef(term, this.mark({ t: 'scalar', v: f.text, loc: this.loc(f) }, f.pos)), start);
      } else if (this.isOp('[') && !this.tok.nl) {
        this.next();
        const k = this.parseTermIn();
        this.expectOp(']');
        term = this.mark(appendRef(term, k), start);
      } else if (this.isOp('(') && !this.tok.nl && (term.t === 'var' || term.t === 'ref')) {
        const op = refText(term);
        if (op === undefined) this.fail('invalid call target');
        this.next();
        const args: Term[] = [];
        while (!this.isOp(')')) {
          args.push(this.parseTermIn());
          if (!this.isOp(',')) break;
          this.next();
        }
        this.expectOp(')');
        term = this.mark({ t: 'call', op: op!, args, loc: term.loc }, start);
      } else return term;
    }
  }

  // Collections follow OPA's parser: the first element is read as a plain term (no infix operators) so that
  // `[a | b]` is a comprehension; when what follows `|` is no body and a comma comes next, or another operator
  // follows the plain term, the collection is read again with full terms (`{"k": {1} | {2}, "l": 1}`).
  private parseArray(): Term {
    const loc = this.loc(this.next());
    if (this.isOp(']')) { this.next(); return { t: 'array', items: [], loc }; }
    const start = this.i;
    const head = this.parseTerm();
    if (this.isOp(']')) { this.next(); return { t: 'array', items: [head], loc }; }
    if (this.isOp(',')) return { t: 'array', items: this.parseTermList(']', [head]), loc };
    if (this.isOp('|')) {
      const body = this.tryComprehensionBody(']', start);
      if (body) return { t: 'arraycomp', head, body, loc };
    }
    this.i = start;
    return { t: 'array', items: this.parseTermList(']', []), loc };
  }

  private parseBrace(): Term {
    const loc = this.loc(this.next());
    if (this.isOp('}')) { this.next(); return { t: 'object', items: [], loc }; }
    const start = this.i;
    let head = this.parseTerm();
    if (this.isOp('|') || this.isOp('}') || this.isOp(',')) return this.parseSet(start, head, loc, true);
    if (this.isOp(':')) return this.parseObject(head, loc);
    this.i = start;
    head = this.parseTermIn();
    if (this.isOp('}') || this.isOp(',')) return this.parseSet(start, head, loc, false);
    if (this.isOp(':')) return this.parseObject(head, loc);
    return this.fail(`unexpected ${this.describe(this.tok)} token: non-terminated set`);
  }

  private parseSet(start: number, head: Term, loc: Location, comprehension: boolean): Term {
    if (this.isOp('}')) { this.next(); return { t: 'set', items: [head], loc }; }
    if (this.isOp(',')) return { t: 'set', items: this.parseTermList('}', [head]), loc };
    if (comprehension) {
      const body = this.tryComprehensionBody('}', start);
      if (body) return { t: 'setcomp', head, body, loc };
    }
    this.i = start;
    return { t: 'set', items: this.parseTermList('}', []), loc };
  }

  private parseObject(key: Term, loc: Location): Term {
    this.expectOp(':');
    const start = this.i;
    let value = this.parseTerm();
    if (this.isOp('}') || this.isOp(',')) return this.parseObjectItems(key, value, loc);
    if (this.isOp('|')) {
      const at = this.i;
      try {
        this.next();
        const body = this.parseBodyUntil('}');
        this.expectOp('}');
        return { t: 'objcomp', key, value, body, loc };
      } catch (e) {
        if (!(e instanceof RegoError)) throw e;
        this.i = at;
      }
    }
    this.i = start;
    value = this.parseTermIn();
    if (this.isOp('}') || this.isOp(',')) return this.parseObjectItems(key, value, loc);
    return this.fail(`unexpected ${this.describe(this.tok)} token: non-terminated object`);
  }

  private parseObjectItems(key: Term, value: Term, loc: Location): Term {
    const items: [Term, Term][] = [[key, value]];
    while (this.isOp(',')) {
      this.next();
      if (this.isOp('}')) break;
      const k = this.parseTermIn();
      this.expectOp(':');
      items.push([k, this.parseTermIn()]);
    }
    this.expectOp('}');
    return { t: 'object', items, loc };
  }

  /** Items after `first` up to `end` (a trailing comma allowed); the comma after `first` is the current token. */
  private parseTermList(end: string, first: Term[]): Term[] {
    const items = first;
    if (first.length === 0) items.push(this.parseTermIn());
    while (this.isOp(',')) {
      this.next();
      if (this.isOp(end)) break;
      items.push(this.parseTermIn());
    }
    if (!this.isOp(end)) this.fail(`unexpected ${this.describe(this.tok)} token: expected "," or "${end}"`);
    this.next();
    return items;
  }

  /**
   * The body of a comprehension after `|`. When it does not parse and the parser stopped at a comma, the `|` was a
   * set union in a collection literal (as OPA's parser decides): undefined, to re-read from `restart`.
   */
  private tryComprehensionBody(end: string, restart: number): Body | undefined {
    try {
      this.next();
      const body = this.parseBodyUntil(end);
      this.expectOp(end);
      return body;
    } catch (e) {
      if (!(e instanceof RegoError) || !this.isOp(',')) throw e;
      this.i = restart;
      return undefined;
    }
  }

  private parseTemplate(t: Token): Term {
    const parts: (string | Term)[] = [];
    for (const p of t.parts!) {
      if (p.text !== undefined) { parts.push(p.text); continue; }
      const sub = new Parser(p.expr!, this.file, this.version, p.row, p.col);
      for (const k of this.keywords) sub.keywords.add(k);
      if (sub.tok.kind === 'eof') sub.fail('empty template expression');
      let term = sub.parseTermIn();
      const withs = sub.parseWiths();
      if (withs.length) term = { t: 'withterm', term, with: withs, loc: term.loc };
      if (sub.tok.kind !== 'eof') sub.fail(`unexpected ${sub.describe(sub.tok)} token in template expression`);
      parts.push(term);
    }
    return { t: 'template', parts, loc: this.loc(t) };
  }
}

function appendRef(term: Term, key: Term): Term {
  if (term.t === 'ref') return { t: 'ref', head: term.head, path: [...term.path, key], loc: term.loc };
  return { t: 'ref', head: term, path: [key], loc: term.loc };
}

/** Dotted text of a ref made of a var and string keys (call targets), or undefined. */
export function refText(term: Term): string | undefined {
  if (term.t === 'var') return term.name;
  if (term.t !== 'ref' || term.head.t !== 'var') return undefined;
  let s = term.head.name;
  for (const p of term.path) {
    if (p.t !== 'scalar' || typeof p.v !== 'string') return undefined;
    s += `.${p.v}`;
  }
  return s;
}

function refToPath(term: Term, fail: (m: string) => never): string[] {
  if (term.t === 'var') return [term.name];
  if (term.t !== 'ref' || term.head.t !== 'var') return fail('expected reference');
  const out = [term.head.name];
  for (const p of term.path) {
    if (p.t !== 'scalar' || typeof p.v !== 'string') return fail('package and import paths must contain only string keys');
    out.push(p.v);
  }
  return out;
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RegoError) throw e;
    if (e instanceof RangeError) throw RegoError.single('rego_parse_error', 'input nested too deeply');
    throw RegoError.single('rego_parse_error', (e as Error)?.message ?? String(e));
  }
}

/** Source ranges [start, end) of parsed nodes; a node the parser made up (an implied `true` body) has none. */
export type Spans = Map<object, [number, number]>;

/** Parses a module keeping what `rego fmt` needs besides the tree: node source ranges and comments. */
export function parseModuleWithSpans(src: string, file: string, version: RegoVersion = 'v1'): { module: Module; spans: Spans; comments: Comment[] } {
  return wrap(() => {
    const p = new Parser(src, file, version);
    p.spans = new Map();
    return { module: p.parseModule(), spans: p.spans, comments: p.commentList };
  });
}

export function parseModule(src: string, file: string, version: RegoVersion = 'v1'): Module {
  return wrap(() => new Parser(src, file, version).parseModule());
}

export function parseQuery(src: string, version: RegoVersion = 'v1', file = 'query'): Body {
  return wrap(() => new Parser(src, file, version).parseQuery());
}
