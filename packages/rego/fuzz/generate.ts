/**
 * Random Rego programs for differential testing against OPA: one module (`package p`), an input document and
 * the query `data.p`. The grammar covers the places engines tend to differ: negation around calls and
 * references that may be undefined, comprehensions, `some ... in`, `every`, `with`, partial sets and objects,
 * functions with `else`, `default`, ref heads and a spread of builtins. Programs are seeded: the same seed gives
 * the same program, so a mismatch can be replayed and minimised.
 */

export interface Program {
  seed: number;
  module: string;
  input: unknown;
  query: string;
}

/** mulberry32: small, fast, good enough to pick grammar branches */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  private readonly r: () => number;
  private n = 0;
  readonly funcs: { name: string; arity: number }[] = [];
  readonly rules: string[] = [];
  constructor(seed: number) { this.r = prng(seed); }

  int(n: number): number { return Math.floor(this.r() * n); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  chance(p: number): boolean { return this.r() < p; }
  fresh(prefix: string): string { return `${prefix}${this.n++}`; }

  scalar(): string {
    return this.pick([() => String(this.int(5)), () => JSON.stringify(this.pick(['a', 'b', 'c', ''])), () => this.pick(['true', 'false', 'null']), () => '1.5'])();
  }

  /** A reference into the input: defined or not, depending on the input drawn. */
  inputRef(): string {
    return this.pick(['input.n', 'input.s', 'input.xs', 'input.obj', 'input.obj.a', 'input.obj.missing', 'input.missing', 'input.xs[0]', 'input.xs[5]', 'input.obj[input.s]', 'input.flag', 'input.strs[0]']);
  }

  term(vars: string[], depth = 0): string {
    const options: (() => string)[] = [() => this.scalar(), () => this.inputRef()];
    if (vars.length) options.push(() => this.pick(vars), () => this.pick(vars));
    if (depth < 2) {
      options.push(
        () => `[${this.term(vars, depth + 1)}, ${this.term(vars, depth + 1)}]`,
        () => `{${this.term(vars, depth + 1)}}`,
        () => `{"k": ${this.term(vars, depth + 1)}}`,
        () => this.call(vars, depth + 1),
        () => this.call(vars, depth + 1),
        () => `[v | some v in ${this.collection(vars)}]`,
        () => `{v | some v in ${this.collection(vars)}; ${this.compare(['v'], depth + 1)}}`,
        () => `${this.num(vars)} ${this.pick(['+', '-', '*'])} ${this.num(vars)}`,
        () => `${this.set(vars)} ${this.pick(['|', '&', '-'])} ${this.set(vars)}`,
      );
      if (this.rules.length) options.push(() => this.pick(this.rules));
    }
    return this.pick(options)();
  }

  str(vars: string[]): string {
    return this.pick([() => JSON.stringify(this.pick(['a', 'b', 'ab', ''])), () => 'input.s', () => 'input.strs[0]', () => 'input.obj.b', () => (vars.length ? this.pick(vars) : '"a"')])();
  }

  /** Number-typed terms (OPA's type checker rejects arithmetic on other known types). */
  num(vars: string[]): string {
    return this.pick([() => String(this.int(5)), () => 'input.n', () => 'input.xs[0]', () => `count(${this.collection(vars)})`, () => (vars.length ? this.pick(vars) : '1')])();
  }

  set(vars: string[]): string {
    return this.pick([() => '{"a", "b"}', () => '{1, 2}', () => '{x | some x in input.xs}', () => '{x | some x in input.strs}', () => 'set()'])();
  }

  collection(vars: string[]): string {
    return this.pick([() => 'input.xs', () => 'input.strs', () => 'input.obj', () => '[1, 2, 3]', () => '{"a", "b"}', () => 'input.missing', () => (vars.length ? this.pick(vars) : 'input.xs')])();
  }

  call(vars: string[], depth: number): string {
    const t = () => this.term(vars, depth + 1);
    const c = () => this.collection(vars);
    const s = () => this.str(vars);
    const builtins: (() => string)[] = [
      () => `count(${c()})`, () => `sum(${this.pick(['input.xs', '[1, 2, 3]'])})`, () => `max(${this.pick(['input.xs', 'input.strs', '{1, 2}'])})`,
      () => `lower(${s()})`, () => `upper(${s()})`, () => `startswith(${s()}, ${s()})`, () => `concat(",", ${this.pick(['input.strs', '{"a", "b"}'])})`,
      () => `object.get(${this.pick(['input.obj', '{"a": 1}'])}, ${t()}, ${t()})`, () => `array.concat(${this.pick(['input.xs', '[1]'])}, ${this.pick(['input.strs', '[2]'])})`,
      () => `sort(${this.pick(['input.xs', 'input.strs', '{"b", "a"}'])})`, () => `is_number(${t()})`, () => `to_number(${this.pick(['input.n', '"3"', 'input.s'])})`,
      () => `contains(${s()}, ${s()})`, () => `sprintf("%v", [${t()}])`, () => `abs(${this.num(vars)})`, () => `regex.match("^a", ${s()})`,
      () => `json.marshal(${t()})`, () => `type_name(${t()})`, () => `object.keys(${this.pick(['input.obj', '{"a": 1}'])})`, () => `split(${s()}, ",")`,
    ];
    if (this.funcs.length) {
      const f = this.pick(this.funcs);
      builtins.push(() => `${f.name}(${Array.from({ length: f.arity }, t).join(', ')})`);
    }
    return this.pick(builtins)();
  }

  compare(vars: string[], depth = 0): string {
    const t = () => this.term(vars, depth);
    return this.pick([
      () => `${t()} == ${t()}`, () => `${t()} != ${t()}`, () => `${t()} < ${t()}`, () => `${t()} in ${this.collection(vars)}`,
      () => this.call(vars, depth), () => this.inputRef(), () => `${t()} = ${t()}`,
    ])();
  }

  /** A body: each expression may bind a fresh var that later ones use. */
  body(params: string[], n = 1 + this.int(3)): { lines: string[]; vars: string[] } {
    const vars = [...params];
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const kind = this.int(10);
      if (kind < 2) {
        const v = this.fresh('x');
        lines.push(`${v} := ${this.term(vars)}`);
        vars.push(v);
      } else if (kind < 4) {
        const v = this.fresh('x');
        lines.push(`some ${v} in ${this.collection(vars)}`);
        vars.push(v);
      } else if (kind < 6) {
        lines.push(`not ${this.compare(vars)}`);
      } else if (kind < 7) {
        const v = this.fresh('e');
        lines.push(`every ${v} in ${this.collection(vars)} { ${this.compare([...vars, v])} }`);
      } else if (kind < 8) {
        lines.push(`${this.compare(vars)} with input.${this.pick(['n', 's', 'xs', 'missing'])} as ${this.term(vars)}`);
      } else {
        lines.push(this.compare(vars));
      }
    }
    return { lines, vars };
  }

  rule(): string {
    const name = this.fresh('r');
    const kind = this.int(8);
    const b = this.body([]);
    const body = `{\n\t${b.lines.join('\n\t')}\n}`;
    if (kind === 0) {
      const k = this.fresh('s');
      this.rules.push(k);
      return `${k} contains ${this.term(b.vars)} if ${body}`;
    }
    if (kind === 1) {
      const k = this.fresh('o');
      this.rules.push(k);
      return `${k}[${this.term(b.vars)}] := ${this.term(b.vars)} if ${body}`;
    }
    if (kind === 2) {
      const f = this.fresh('f');
      const arity = 1 + this.int(2);
      const params = Array.from({ length: arity }, (_, i) => `a${i}`);
      const fb = this.body(params);
      this.funcs.push({ name: f, arity });
      const elseClause = this.chance(0.5) ? ` else := ${this.scalar()}` : '';
      return `${f}(${params.join(', ')}) := ${this.term(fb.vars)} if {\n\t${fb.lines.join('\n\t')}\n}${elseClause}`;
    }
    if (kind === 3) {
      this.rules.push(name);
      return `default ${name} := ${this.scalar()}\n\n${name} := ${this.term(b.vars)} if ${body}`;
    }
    if (kind === 4) {
      const h = this.fresh('h');
      return `${h}.${this.pick(['a', 'b'])}[${this.term(b.vars)}] := ${this.term(b.vars)} if ${body}`;
    }
    if (kind === 5) {
      this.rules.push(name);
      return `${name} := ${this.term(b.vars)} if ${body} else := ${this.scalar()}`;
    }
    this.rules.push(name);
    return `${name} if ${body}`;
  }

  input(): unknown {
    const maybe = <T>(v: T): T | undefined => (this.chance(0.8) ? v : undefined);
    const obj: Record<string, unknown> = {};
    const put = (k: string, v: unknown) => { if (v !== undefined) obj[k] = v; };
    put('n', maybe(this.int(5)));
    put('s', maybe(this.pick(['a', 'b', 'A'])));
    put('xs', maybe(Array.from({ length: this.int(4) }, () => this.int(4))));
    put('strs', maybe(Array.from({ length: this.int(3) }, () => this.pick(['a', 'b', 'ab']))));
    put('obj', maybe({ a: this.int(3), b: this.pick(['a', 'x']) }));
    put('flag', maybe(this.chance(0.5)));
    return obj;
  }
}

export function generate(seed: number): Program {
  const g = new Gen(seed);
  const rules = Array.from({ length: 2 + g.int(4) }, () => g.rule());
  return { seed, module: `package p\n\n${rules.join('\n\n')}\n`, input: g.input(), query: 'data.p' };
}
