// A GraphQL lexer and parser that reproduce vektah/gqlparser (as vendored by OPA): its error
// texts and positions, and its AST as Go's encoding/json writes it (field names, "" and false
// kept, nil as null). OPA's graphql.* builtins expose exactly this AST to policies.

export class GqlSyntaxError extends Error {
  constructor(readonly msg: string, readonly line: number, readonly column: number) {
    super(`${msg} in GraphQL string at location ${line}:${column}`);
  }
}

type Kind =
  | '<Invalid>' | '<EOF>' | '!' | '$' | '&' | '(' | ')' | '...' | ':' | '=' | '@' | '[' | ']' | '{' | '|' | '}'
  | 'Name' | 'Int' | 'Float' | 'String' | 'BlockString';

interface Token { kind: Kind; value: string; line: number; column: number }

const tokenString = (t: Token) => (t.value !== '' ? `${t.kind} ${JSON.stringify(t.value)}` : t.kind);

function blockStringValue(raw: string): string {
  const lines = raw.split(/\r\n|\n|\r/);
  let common: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const indent = line.length - line.replace(/^[ \t]*/, '').length;
    if (indent < line.length && (common === undefined || indent < common)) common = indent;
  }
  if (common) for (let i = 1; i < lines.length; i++) lines[i] = lines[i]!.slice(common);
  const blank = (l: string) => /^[ \t]*$/.test(l);
  while (lines.length > 0 && blank(lines[0]!)) lines.shift();
  while (lines.length > 0 && blank(lines[lines.length - 1]!)) lines.pop();
  return lines.join('\n');
}

class Lexer {
  private i = 0;
  private line = 1;
  private lineStart = 0;
  constructor(private readonly src: string) {}

  private tok(kind: Kind, value: string, start: number, line = this.line, lineStart = this.lineStart): Token {
    return { kind, value, line, column: start - lineStart + 1 };
  }
  private invalid(): Token {
    return { kind: '<Invalid>', value: '', line: this.line, column: this.i - this.lineStart + 1 };
  }
  private newline(): void {
    this.line++;
    this.lineStart = this.i;
  }

  next(): Token {
    const s = this.src;
    // whitespace, commas, comments, BOM
    for (;;) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === ',' || c === '\ufeff') this.i++;
      else if (c === '\n') { this.i++; this.newline(); }
      else if (c === '\r') { this.i++; if (s[this.i] === '\n') this.i++; this.newline(); }
      else if (c === '#') { while (this.i < s.length && s[this.i] !== '\n' && s[this.i] !== '\r') this.i++; }
      else break;
    }
    const start = this.i;
    if (start >= s.length) return this.tok('<EOF>', '', start);
    const c = s[start]!;
    if ('!$&():=@[]{|}'.includes(c)) {
      this.i++;
      return this.tok(c as Kind, '', start);
    }
    if (c === '.') {
      if (s.startsWith('...', start)) {
        this.i += 3;
        return this.tok('...', '', start);
      }
      return this.invalid();
    }
    if (/[_A-Za-z]/.test(c)) {
      const m = /^[_0-9A-Za-z]+/.exec(s.slice(start))!;
      this.i += m[0].length;
      return this.tok('Name', m[0], start);
    }
    if (c === '-' || /[0-9]/.test(c)) return this.number(start);
    if (c === '"') return s.startsWith('"""', start) ? this.blockString(start) : this.string(start);
    return this.invalid();
  }

  private number(start: number): Token {
    const s = this.src;
    let float = false;
    if (s[this.i] === '-') this.i++;
    if (s[this.i] === '0') {
      this.i++;
      if (/[0-9]/.test(s[this.i] ?? '')) return this.invalid();
    } else if (!this.digits()) {
      return this.invalid();
    }
    if (s[this.i] === '.') {
      float = true;
      this.i++;
      if (!this.digits()) return this.invalid();
    }
    if (s[this.i] === 'e' || s[this.i] === 'E') {
      float = true;
      this.i++;
      if (s[this.i] === '+' || s[this.i] === '-') this.i++;
      if (!this.digits()) return this.invalid();
    }
    if (/[._A-Za-z]/.test(s[this.i] ?? '')) return this.invalid();
    return this.tok(float ? 'Float' : 'Int', s.slice(start, this.i), start);
  }

  private digits(): boolean {
    const from = this.i;
    while (/[0-9]/.test(this.src[this.i] ?? '')) this.i++;
    return this.i > from;
  }

  private string(start: number): Token {
    const s = this.src;
    this.i++;
    let out = '';
    for (;;) {
      if (this.i >= s.length) return this.invalid();
      const c = s[this.i]!;
      if (c === '\n' || c === '\r') return this.invalid();
      if (c === '"') {
        this.i++;
        // gqlparser positions string tokens after their opening quote(s)
        return this.tok('String', out, start + 1);
      }
      if (c < ' ' && c !== '\t') return this.invalid();
      if (c === '\\') {
        const e = s[this.i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          this.i += 2;
          continue;
        }
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(this.i + 2, this.i + 6))) {
          out += String.fromCharCode(parseInt(s.slice(this.i + 2, this.i + 6), 16));
          this.i += 6;
          continue;
        }
        this.i++;
        return this.invalid();
      }
      out += c;
      this.i++;
    }
  }

  private blockString(start: number): Token {
    const s = this.src;
    const line = this.line;
    const lineStart = this.lineStart;
    this.i += 3;
    let raw = '';
    for (;;) {
      if (this.i >= s.length) return this.invalid();
      if (s.startsWith('"""', this.i)) {
        this.i += 3;
        return this.tok('BlockString', blockStringValue(raw), start + 3, line, lineStart);
      }
      if (s.startsWith('\\"""', this.i)) {
        raw += '"""';
        this.i += 4;
        continue;
      }
      const c = s[this.i]!;
      this.i++;
      raw += c;
      if (c === '\n') this.newline();
      else if (c === '\r') {
        if (s[this.i] === '\n') { raw += '\n'; this.i++; }
        this.newline();
      }
    }
  }
}

type J = Record<string, unknown>;

// Nesting beyond this is hostile input, not GraphQL anyone writes; stop before the stack does.
const MAX_DEPTH = 500;

class Parser {
  private readonly lexer: Lexer;
  private peeked: Token | undefined;
  private prev: Token | undefined;
  private depth = 0;

  constructor(src: string) {
    this.lexer = new Lexer(src);
  }

  private fail(t: Token, msg: string): never {
    throw new GqlSyntaxError(msg, t.line, t.column);
  }
  peek(): Token {
    this.peeked ??= this.lexer.next();
    return this.peeked;
  }
  next(): Token {
    const t = this.peek();
    // An invalid token stops the parser where gqlparser would report it.
    if (t.kind === '<Invalid>') this.fail(t, `Unexpected ${tokenString(t)}`);
    this.peeked = undefined;
    this.prev = t;
    return t;
  }
  private expect(kind: Kind): Token {
    const t = this.peek();
    if (t.kind === kind) return this.next();
    return this.fail(t, `Expected ${kind}, found ${t.kind}`);
  }
  private expectKeyword(value: string): Token {
    const t = this.peek();
    if (t.kind === 'Name' && t.value === value) return this.next();
    return this.fail(t, `Expected ${JSON.stringify(value)}, found ${tokenString(t)}`);
  }
  private skip(kind: Kind): boolean {
    if (this.peek().kind !== kind) return false;
    this.next();
    return true;
  }
  unexpected(t: Token = this.peek()): never {
    return this.fail(t, `Unexpected ${tokenString(t)}`);
  }
  private nest(): void {
    if (++this.depth > MAX_DEPTH) this.fail(this.peek(), 'Exceeded maximum nesting depth');
  }
  private many<T>(start: Kind, end: Kind, cb: () => T): T[] | null {
    if (!this.skip(start)) return null;
    this.nest();
    const out: T[] = [];
    while (this.peek().kind !== end) out.push(cb());
    this.next();
    this.depth--;
    return out;
  }
  private some<T>(start: Kind, end: Kind, cb: () => T): T[] | null {
    if (!this.skip(start)) return null;
    this.nest();
    const out: T[] = [];
    while (this.peek().kind !== end) out.push(cb());
    if (out.length === 0) this.fail(this.peek(), `expected at least one definition, found ${this.peek().kind}`);
    this.next();
    this.depth--;
    return out;
  }
  private name(): string {
    return this.expect('Name').value;
  }

  // --- queries ---

  queryDocument(): J {
    const operations: J[] = [];
    const fragments: J[] = [];
    while (this.peek().kind !== '<EOF>') {
      const t = this.peek();
      if (t.kind === 'Name' && ['query', 'mutation', 'subscription'].includes(t.value)) operations.push(this.operation());
      else if (t.kind === 'Name' && t.value === 'fragment') fragments.push(this.fragmentDefinition());
      else if (t.kind === '{') operations.push(this.operation());
      else this.unexpected();
    }
    return { Operations: operations.length ? operations : null, Fragments: fragments.length ? fragments : null };
  }

  private operation(): J {
    if (this.peek().kind === '{') {
      return { Operation: 'query', Name: '', VariableDefinitions: null, Directives: null, SelectionSet: this.requiredSelectionSet() };
    }
    const operation = this.operationType();
    const name = this.peek().kind === 'Name' ? this.next().value : '';
    return {
      Operation: operation, Name: name, VariableDefinitions: this.variableDefinitions(),
      Directives: this.directives(false), SelectionSet: this.requiredSelectionSet(),
    };
  }

  private operationType(): string {
    const t = this.next();
    if (['query', 'mutation', 'subscription'].includes(t.value) && t.kind === 'Name') return t.value;
    return this.unexpected(t);
  }

  private variableDefinitions(): J[] | null {
    return this.many('(', ')', () => {
      const variable = this.variable();
      this.expect(':');
      const type = this.typeReference();
      const defaultValue = this.skip('=') ? this.valueLiteral(true) : null;
      return { Variable: variable, Type: type, DefaultValue: defaultValue, Directives: this.directives(false), Used: false };
    });
  }

  private variable(): string {
    this.expect('$');
    return this.name();
  }

  private requiredSelectionSet(): J[] | null {
    if (this.peek().kind !== '{') this.fail(this.peek(), `Expected {, found ${this.peek().kind}`);
    return this.some('{', '}', () => this.selection());
  }

  private selection(): J {
    return this.peek().kind === '...' ? this.fragment() : this.field();
  }

  private field(): J {
    const alias = this.name();
    const name = this.skip(':') ? this.name() : alias;
    const args = this.arguments(false);
    const directives = this.directives(false);
    const selectionSet = this.peek().kind === '{' ? this.some('{', '}', () => this.selection()) : null;
    return { Alias: alias, Name: name, Arguments: args, Directives: directives, SelectionSet: selectionSet };
  }

  private arguments(isConst: boolean): J[] | null {
    return this.many('(', ')', () => {
      const name = this.name();
      this.expect(':');
      return { Name: name, Value: this.valueLiteral(isConst) };
    });
  }

  private fragment(): J {
    this.expect('...');
    const t = this.peek();
    if (t.kind === 'Name' && t.value !== 'on') {
      return { Name: this.fragmentName(), Directives: this.directives(false) };
    }
    let typeCondition = '';
    if (t.value === 'on') {
      this.next();
      typeCondition = this.name();
    }
    return { TypeCondition: typeCondition, Directives: this.directives(false), SelectionSet: this.requiredSelectionSet() };
  }

  private fragmentDefinition(): J {
    this.expectKeyword('fragment');
    const name = this.fragmentName();
    const variables = this.variableDefinitions();
    this.expectKeyword('on');
    return {
      Name: name, VariableDefinition: variables, TypeCondition: this.name(),
      Directives: this.directives(false), SelectionSet: this.requiredSelectionSet(),
    };
  }

  private fragmentName(): string {
    if (this.peek().value === 'on') this.unexpected();
    return this.name();
  }

  private valueLiteral(isConst: boolean): J {
    const t = this.peek();
    switch (t.kind) {
      case '[':
        return { Raw: '', Children: this.many('[', ']', () => ({ Name: '', Value: this.valueLiteral(isConst) })), Kind: 8 };
      case '{':
        return {
          Raw: '', Kind: 9,
          Children: this.many('{', '}', () => {
            const name = this.name();
            this.expect(':');
            return { Name: name, Value: this.valueLiteral(isConst) };
          }),
        };
      case '$':
        if (isConst) this.unexpected();
        return { Raw: this.variable(), Children: null, Kind: 0 };
      case 'Int': this.next(); return { Raw: t.value, Children: null, Kind: 1 };
      case 'Float': this.next(); return { Raw: t.value, Children: null, Kind: 2 };
      case 'String': this.next(); return { Raw: t.value, Children: null, Kind: 3 };
      case 'BlockString': this.next(); return { Raw: t.value, Children: null, Kind: 4 };
      case 'Name': {
        this.next();
        const kind = t.value === 'true' || t.value === 'false' ? 5 : t.value === 'null' ? 6 : 7;
        return { Raw: t.value, Children: null, Kind: kind };
      }
      default:
        return this.unexpected();
    }
  }

  private directives(isConst: boolean): J[] | null {
    const out: J[] = [];
    while (this.peek().kind === '@') {
      this.expect('@');
      out.push({ Name: this.name(), Arguments: this.arguments(isConst), Location: '' });
    }
    return out.length ? out : null;
  }

  private typeReference(): J {
    let type: J;
    if (this.skip('[')) {
      this.nest();
      const elem = this.typeReference();
      this.expect(']');
      this.depth--;
      type = { NamedType: '', Elem: elem, NonNull: false };
    } else {
      type = { NamedType: this.name(), Elem: null, NonNull: false };
    }
    if (this.skip('!')) type.NonNull = true;
    return type;
  }

  // --- schemas ---

  schemaDocument(): J {
    const doc: Record<string, J[]> = { Schema: [], SchemaExtension: [], Directives: [], Definitions: [], Extensions: [] };
    while (this.peek().kind !== '<EOF>') {
      let description = '';
      if (this.peek().kind === 'String' || this.peek().kind === 'BlockString') description = this.next().value;
      const t = this.peek();
      if (t.kind !== 'Name') this.unexpected();
      switch (t.value) {
        case 'scalar': case 'type': case 'interface': case 'union': case 'enum': case 'input':
          doc.Definitions!.push(this.typeDefinition(description));
          break;
        case 'schema':
          doc.Schema!.push(this.schemaDefinition(description));
          break;
        case 'directive':
          doc.Directives!.push(this.directiveDefinition(description));
          break;
        case 'extend':
          if (description !== '') this.unexpected(this.prev!);
          this.typeSystemExtension(doc);
          break;
        default:
          this.unexpected();
      }
    }
    return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, v.length ? v : null]));
  }

  private description(): string {
    const t = this.peek();
    return t.kind === 'String' || t.kind === 'BlockString' ? this.next().value : '';
  }

  private definition(kind: string, description: string, name: string, parts: Partial<J>): J {
    return {
      Kind: kind, Description: description, Name: name, Directives: null, Interfaces: null, Fields: null,
      Types: null, EnumValues: null, BuiltIn: false, ...parts,
    };
  }

  private typeDefinition(description: string): J {
    const keyword = this.next().value;
    const name = this.name();
    switch (keyword) {
      case 'scalar':
        return this.definition('SCALAR', description, name, { Directives: this.directives(true) });
      case 'type':
      case 'interface': {
        const interfaces = this.implementsInterfaces();
        const directives = this.directives(true);
        return this.definition(keyword === 'type' ? 'OBJECT' : 'INTERFACE', description, name,
          { Interfaces: interfaces, Directives: directives, Fields: this.fieldsDefinition() });
      }
      case 'union': {
        const directives = this.directives(true);
        return this.definition('UNION', description, name, { Directives: directives, Types: this.unionMembers() });
      }
      case 'enum': {
        const directives = this.directives(true);
        return this.definition('ENUM', description, name, { Directives: directives, EnumValues: this.enumValues() });
      }
      default: {
        const directives = this.directives(true);
        return this.definition('INPUT_OBJECT', description, name, { Directives: directives, Fields: this.inputFields() });
      }
    }
  }

  private schemaDefinition(description: string): J {
    this.expectKeyword('schema');
    const directives = this.directives(true);
    return { Description: description, Directives: directives, OperationTypes: this.some('{', '}', () => this.operationTypeDefinition()) };
  }

  private operationTypeDefinition(): J {
    const operation = this.operationType();
    this.expect(':');
    return { Operation: operation, Type: this.name() };
  }

  private implementsInterfaces(): string[] | null {
    if (this.peek().value !== 'implements') return null;
    this.next();
    this.skip('&');
    const types = [this.name()];
    while (this.skip('&')) types.push(this.name());
    return types;
  }

  private fieldsDefinition(): J[] | null {
    return this.some('{', '}', () => {
      const description = this.description();
      const name = this.name();
      const args = this.argumentDefs();
      this.expect(':');
      const type = this.typeReference();
      return { Description: description, Name: name, Arguments: args, DefaultValue: null, Type: type, Directives: this.directives(true) };
    });
  }

  private argumentDefs(): J[] | null {
    return this.some('(', ')', () => this.inputValueDef());
  }

  private inputValueDef(): J {
    const description = this.description();
    const name = this.name();
    this.expect(':');
    const type = this.typeReference();
    const defaultValue = this.skip('=') ? this.valueLiteral(true) : null;
    return { Description: description, Name: name, DefaultValue: defaultValue, Type: type, Directives: this.directives(true) };
  }

  private inputFields(): J[] | null {
    return this.some('{', '}', () => {
      const f = this.inputValueDef();
      return { Description: f.Description, Name: f.Name, Arguments: null, DefaultValue: f.DefaultValue, Type: f.Type, Directives: f.Directives };
    });
  }

  private unionMembers(): string[] | null {
    if (!this.skip('=')) return null;
    this.skip('|');
    const types = [this.name()];
    while (this.skip('|')) types.push(this.name());
    return types;
  }

  private enumValues(): J[] | null {
    return this.some('{', '}', () => {
      const description = this.description();
      return { Description: description, Name: this.name(), Directives: this.directives(true) };
    });
  }

  private typeSystemExtension(doc: Record<string, J[]>): void {
    this.expectKeyword('extend');
    const t = this.peek();
    const empty = (xs: unknown[] | null) => !xs || xs.length === 0;
    switch (t.value) {
      case 'schema': {
        this.next();
        const directives = this.directives(true);
        const ops = this.some('{', '}', () => this.operationTypeDefinition());
        if (empty(directives) && empty(ops)) this.unexpected();
        doc.SchemaExtension!.push({ Description: '', Directives: directives, OperationTypes: ops });
        return;
      }
      case 'scalar': {
        this.next();
        const name = this.name();
        const directives = this.directives(true);
        if (empty(directives)) this.unexpected();
        doc.Extensions!.push(this.definition('SCALAR', '', name, { Directives: directives }));
        return;
      }
      case 'type':
      case 'interface': {
        this.next();
        const name = this.name();
        const interfaces = t.value === 'type' ? this.implementsInterfaces() : null;
        const directives = this.directives(true);
        const fields = this.fieldsDefinition();
        if (empty(interfaces) && empty(directives) && empty(fields)) this.unexpected();
        doc.Extensions!.push(this.definition(t.value === 'type' ? 'OBJECT' : 'INTERFACE', '', name,
          { Interfaces: interfaces, Directives: directives, Fields: fields }));
        return;
      }
      case 'union': {
        this.next();
        const name = this.name();
        const directives = this.directives(true);
        const types = this.unionMembers();
        if (empty(directives) && empty(types)) this.unexpected();
        doc.Extensions!.push(this.definition('UNION', '', name, { Directives: directives, Types: types }));
        return;
      }
      case 'enum': {
        this.next();
        const name = this.name();
        const directives = this.directives(true);
        const values = this.enumValues();
        if (empty(directives) && empty(values)) this.unexpected();
        doc.Extensions!.push(this.definition('ENUM', '', name, { Directives: directives, EnumValues: values }));
        return;
      }
      case 'input': {
        this.next();
        const name = this.name();
        const directives = this.directives(false);
        const fields = this.inputFields();
        if (empty(directives) && empty(fields)) this.unexpected();
        doc.Extensions!.push(this.definition('INPUT_OBJECT', '', name, { Directives: directives, Fields: fields }));
        return;
      }
      default:
        this.unexpected();
    }
  }

  private directiveDefinition(description: string): J {
    this.expectKeyword('directive');
    this.expect('@');
    const name = this.name();
    const args = this.argumentDefs();
    let repeatable = false;
    if (this.peek().kind === 'Name' && this.peek().value === 'repeatable') {
      repeatable = true;
      this.next();
    }
    this.expectKeyword('on');
    this.skip('|');
    const locations = [this.directiveLocation()];
    while (this.skip('|')) locations.push(this.directiveLocation());
    return { Description: description, Name: name, Arguments: args, Locations: locations, IsRepeatable: repeatable };
  }

  private directiveLocation(): string {
    const t = this.expect('Name');
    if (DIRECTIVE_LOCATIONS.has(t.value)) return t.value;
    return this.unexpected(t);
  }
}

const DIRECTIVE_LOCATIONS = new Set([
  'QUERY', 'MUTATION', 'SUBSCRIPTION', 'FIELD', 'FRAGMENT_DEFINITION', 'FRAGMENT_SPREAD', 'INLINE_FRAGMENT',
  'VARIABLE_DEFINITION', 'SCHEMA', 'SCALAR', 'OBJECT', 'FIELD_DEFINITION', 'ARGUMENT_DEFINITION', 'INTERFACE',
  'UNION', 'ENUM', 'ENUM_VALUE', 'INPUT_OBJECT', 'INPUT_FIELD_DEFINITION',
]);

export function parseQueryDocument(src: string): J {
  return new Parser(src).queryDocument();
}

export function parseSchemaDocument(src: string): J {
  return new Parser(src).schemaDocument();
}

// ---------------------------------------------------------------------------
// Printing an AST (ours, or one a policy handed back as an object) as GraphQL text.

const arr = (v: unknown): J[] => (Array.isArray(v) ? (v as J[]) : []);
const s = (v: unknown): string => (typeof v === 'string' ? v : '');

function printValue(v: J): string {
  switch (v.Kind) {
    case 0: return `$${s(v.Raw)}`;
    case 3: case 4: return JSON.stringify(s(v.Raw));
    case 8: return `[${arr(v.Children).map((c) => printValue((c.Value ?? {}) as J)).join(', ')}]`;
    case 9: return `{${arr(v.Children).map((c) => `${s(c.Name)}: ${printValue((c.Value ?? {}) as J)}`).join(', ')}}`;
    default: return s(v.Raw);
  }
}

function printType(t: J | undefined): string {
  if (!t) return '';
  const base = t.Elem ? `[${printType(t.Elem as J)}]` : s(t.NamedType);
  return t.NonNull ? `${base}!` : base;
}

const printArgs = (args: unknown) => {
  const list = arr(args);
  return list.length ? `(${list.map((a) => `${s(a.Name)}: ${printValue((a.Value ?? {}) as J)}`).join(', ')})` : '';
};
const printDirectives = (ds: unknown) => arr(ds).map((d) => ` @${s(d.Name)}${printArgs(d.Arguments)}`).join('');
const printDescription = (d: unknown) => (s(d) !== '' ? `${JSON.stringify(s(d))} ` : '');

function printSelections(sel: unknown): string {
  const list = arr(sel);
  if (!list.length) return '';
  return ` { ${list.map((x) => {
    if ('Alias' in x || ('Name' in x && 'Arguments' in x) || ('Name' in x && !('TypeCondition' in x) && 'SelectionSet' in x)) {
      const alias = s(x.Alias) !== '' && x.Alias !== x.Name ? `${s(x.Alias)}: ` : '';
      return `${alias}${s(x.Name)}${printArgs(x.Arguments)}${printDirectives(x.Directives)}${printSelections(x.SelectionSet)}`;
    }
    if ('TypeCondition' in x || 'SelectionSet' in x) {
      const on = s(x.TypeCondition) !== '' ? ` on ${s(x.TypeCondition)}` : '';
      return `...${on}${printDirectives(x.Directives)}${printSelections(x.SelectionSet)}`;
    }
    return `...${s(x.Name)}${printDirectives(x.Directives)}`;
  }).join(' ')} }`;
}

function printVariableDefs(vs: unknown): string {
  const list = arr(vs);
  if (!list.length) return '';
  return `(${list.map((v) => `$${s(v.Variable)}: ${printType(v.Type as J)}${v.DefaultValue ? ` = ${printValue(v.DefaultValue as J)}` : ''}${printDirectives(v.Directives)}`).join(', ')})`;
}

export function printQueryDocument(doc: J): string {
  const ops = arr(doc.Operations).map((o) =>
    `${s(o.Operation) || 'query'}${s(o.Name) ? ` ${s(o.Name)}` : ''}${printVariableDefs(o.VariableDefinitions)}${printDirectives(o.Directives)}${printSelections(o.SelectionSet)}`);
  const frags = arr(doc.Fragments).map((f) =>
    `fragment ${s(f.Name)}${printVariableDefs(f.VariableDefinition)} on ${s(f.TypeCondition)}${printDirectives(f.Directives)}${printSelections(f.SelectionSet)}`);
  return [...ops, ...frags].join('\n');
}

function printInputValue(a: J): string {
  return `${printDescription(a.Description)}${s(a.Name)}: ${printType(a.Type as J)}${a.DefaultValue ? ` = ${printValue(a.DefaultValue as J)}` : ''}${printDirectives(a.Directives)}`;
}

function printDefinition(d: J, extend: boolean): string {
  const head = `${extend ? 'extend ' : printDescription(d.Description)}`;
  const name = s(d.Name);
  const dirs = printDirectives(d.Directives);
  const fields = (list: unknown, input: boolean) => {
    const xs = arr(list);
    if (!xs.length) return '';
    return ` { ${xs.map((f) => input ? printInputValue(f)
      : `${printDescription(f.Description)}${s(f.Name)}${arr(f.Arguments).length ? `(${arr(f.Arguments).map(printInputValue).join(', ')})` : ''}: ${printType(f.Type as J)}${printDirectives(f.Directives)}`).join(' ')} }`;
  };
  const impl = arr(d.Interfaces).length ? ` implements ${(d.Interfaces as string[]).join(' & ')}` : '';
  switch (d.Kind) {
    case 'SCALAR': return `${head}scalar ${name}${dirs}`;
    case 'OBJECT': return `${head}type ${name}${impl}${dirs}${fields(d.Fields, false)}`;
    case 'INTERFACE': return `${head}interface ${name}${impl}${dirs}${fields(d.Fields, false)}`;
    case 'UNION': return `${head}union ${name}${dirs}${arr(d.Types).length ? ` = ${(d.Types as string[]).join(' | ')}` : ''}`;
    case 'ENUM': {
      const values = arr(d.EnumValues);
      return `${head}enum ${name}${dirs}${values.length ? ` { ${values.map((v) => `${printDescription(v.Description)}${s(v.Name)}${printDirectives(v.Directives)}`).join(' ')} }` : ''}`;
    }
    default: return `${head}input ${name}${dirs}${fields(d.Fields, true)}`;
  }
}

export function printSchemaDocument(doc: J): string {
  const out: string[] = [];
  const schema = (x: J, extend: boolean) => {
    const ops = arr(x.OperationTypes);
    return `${extend ? 'extend ' : printDescription(x.Description)}schema${printDirectives(x.Directives)}${ops.length ? ` { ${ops.map((o) => `${s(o.Operation)}: ${s(o.Type)}`).join(' ')} }` : ''}`;
  };
  for (const x of arr(doc.Schema)) out.push(schema(x, false));
  for (const x of arr(doc.SchemaExtension)) out.push(schema(x, true));
  for (const d of arr(doc.Directives)) {
    const args = arr(d.Arguments);
    out.push(`${printDescription(d.Description)}directive @${s(d.Name)}${args.length ? `(${args.map(printInputValue).join(', ')})` : ''}${d.IsRepeatable ? ' repeatable' : ''} on ${(Array.isArray(d.Locations) ? d.Locations as string[] : []).join(' | ')}`);
  }
  for (const d of arr(doc.Definitions)) out.push(printDefinition(d, false));
  for (const d of arr(doc.Extensions)) out.push(printDefinition(d, true));
  return out.join('\n');
}
