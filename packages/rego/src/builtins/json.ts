/** json.filter, json.remove and json.patch (RFC 6902) over Rego values (OPA topdown/json.go). */
import { isInteger, toSafeInt } from '../num.js';
import { equal, isArray, isNum, isObject, isSet, makeObject, makeSet, typeName, type RObject, type Value } from '../value.js';
import { OperandTypeError, type BuiltinTable } from './registry.js';
import { arr, obj, operandErr, typeErr } from './operands.js';

/** A path given as "/a/b" (JSON pointer escapes ~0 ~1) or as an array of segments. */
function parsePath(p: Value): Value[] {
  if (typeof p === 'string') {
    if (p === '') return [];
    return p.replace(/^\/+/, '').split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  if (isArray(p)) return p;
  throw operandErr(2, `must be one of {set, array} containing string paths or array of path segments but got ${typeName(p)}`);
}

function paths(v: Value): Value[][] {
  if (isArray(v)) return v.map(parsePath);
  if (isSet(v)) return v.values().map(parsePath);
  throw typeErr(2, v, 'set', 'array');
}

/** Nested objects whose null leaves mark the end of a path (OPA's pathsToObject). */
function pathsToTree(ps: Value[][]): RObject {
  const root = makeObject([]);
  for (const path of ps) {
    if (path.length === 0) continue;
    let node: RObject = root;
    let done = false;
    for (let i = 0; i < path.length - 1 && !done; i++) {
      const child = node.get(path[i]);
      if (child === undefined) {
        const o = makeObject([]);
        node.set(path[i], o);
        node = o;
      } else if (child === null) done = true;
      else node = child as RObject;
    }
    if (!done) node.set(path[path.length - 1], null);
  }
  return root;
}

/** ast.Object.Filter: keep only what the filter tree names. */
function filterValue(v: Value, filter: Value): Value {
  if (filter === null) return v;
  const f = filter as RObject;
  if (isArray(v)) {
    const out: Value[] = [];
    v.forEach((x, i) => {
      const sub = f.get(String(i));
      if (sub !== undefined) out.push(filterValue(x, sub));
    });
    return out;
  }
  if (isSet(v)) return makeSet(v.values().filter((x) => f.get(x) !== undefined).map((x) => filterValue(x, f.get(x)!)));
  if (isObject(v)) {
    const out = makeObject([]);
    for (const [k, x] of v.entries()) {
      const sub = f.get(k);
      if (sub !== undefined) out.set(k, filterValue(x, sub));
    }
    return out;
  }
  return v;
}

/** OPA's jsonRemove: undefined means "removed". */
function removeValue(v: Value, b: Value | undefined): Value | undefined {
  if (b === undefined) return v;
  if (b === null) return undefined;
  if (!isObject(b)) return v;
  if (isObject(v)) {
    const out = makeObject([]);
    for (const [k, x] of v.entries()) {
      const r = removeValue(x, b.get(k));
      if (r !== undefined) out.set(k, r);
    }
    return out;
  }
  if (isSet(v)) {
    const out: Value[] = [];
    for (const x of v.values()) {
      const r = removeValue(x, b.get(x));
      if (r !== undefined) out.push(r);
    }
    return makeSet(out);
  }
  if (isArray(v)) {
    const out: Value[] = [];
    v.forEach((x, i) => {
      const r = removeValue(x, b.get(String(i)));
      if (r !== undefined) out.push(r);
    });
    return out;
  }
  return v;
}

class PatchError extends Error {}

function arrayIndex(seg: Value, len: number, allowEnd: boolean): number {
  let i: number | undefined;
  if (typeof seg === 'string') {
    if (allowEnd && seg === '-') return len;
    i = /^(0|[1-9][0-9]*)$/.test(seg) ? Number(seg) : undefined;
  } else if (isNum(seg) && isInteger(seg)) i = toSafeInt(seg);
  if (i === undefined || i < 0 || i > (allowEnd ? len : len - 1)) throw new PatchError('index out of range');
  return i;
}

function get(v: Value, path: Value[]): Value {
  let cur = v;
  for (const seg of path) {
    if (isObject(cur)) {
      const n = cur.get(seg);
      if (n === undefined) throw new PatchError('path not found');
      cur = n;
    } else if (isArray(cur)) cur = cur[arrayIndex(seg, cur.length, false)];
    else if (isSet(cur)) {
      if (!cur.has(seg)) throw new PatchError('path not found');
      cur = seg;
    } else throw new PatchError('path not found');
  }
  return cur;
}

/** Rebuilds `v` with `edit` applied to the parent of the path's last segment. */
function update(v: Value, path: Value[], edit: (parent: Value, last: Value) => Value): Value {
  if (path.length === 1) return edit(v, path[0]);
  const [seg, ...rest] = path;
  if (isObject(v)) {
    const child = v.get(seg);
    if (child === undefined) throw new PatchError('path not found');
    const out = makeObject(v.entries());
    out.set(seg, update(child, rest, edit));
    return out;
  }
  if (isArray(v)) {
    const i = arrayIndex(seg, v.length, false);
    const out = v.slice();
    out[i] = update(v[i], rest, edit);
    return out;
  }
  if (isSet(v)) {
    if (!v.has(seg)) throw new PatchError('path not found');
    return makeSet([...v.values().filter((x) => !equal(x, seg)), update(seg, rest, edit)]);
  }
  throw new PatchError('path not found');
}

function insert(doc: Value, path: Value[], value: Value): Value {
  if (path.length === 0) return value;
  return update(doc, path, (parent, last) => {
    if (isObject(parent)) {
      const out = makeObject(parent.entries());
      out.set(last, value);
      return out;
    }
    if (isArray(parent)) {
      const i = arrayIndex(last, parent.length, true);
      return [...parent.slice(0, i), value, ...parent.slice(i)];
    }
    if (isSet(parent)) {
      // a set member is its own path, so the value must match the last segment
      if (!equal(last, value)) throw new PatchError('set member and path do not match');
      return makeSet([...parent.values(), value]);
    }
    throw new PatchError('cannot insert into a scalar');
  });
}

function remove(doc: Value, path: Value[]): Value {
  if (path.length === 0) return null;
  return update(doc, path, (parent, last) => {
    if (isObject(parent)) {
      if (!parent.has(last)) throw new PatchError('path not found');
      return makeObject(parent.entries().filter(([k]) => !equal(k, last)));
    }
    if (isArray(parent)) {
      const i = arrayIndex(last, parent.length, false);
      return [...parent.slice(0, i), ...parent.slice(i + 1)];
    }
    if (isSet(parent)) {
      if (!parent.has(last)) throw new PatchError('path not found');
      return makeSet(parent.values().filter((x) => !equal(x, last)));
    }
    throw new PatchError('cannot remove from a scalar');
  });
}

function attr(op: RObject, name: string): Value {
  const v = op.get(name);
  if (v === undefined) throw new PatchError(`missing '${name}' attribute`);
  return v;
}

function applyPatch(doc: Value, ops: Value[]): Value {
  let cur = doc;
  for (const o of ops) {
    if (!isObject(o)) throw new PatchError('must be an array of JSON-Patch objects');
    const op = attr(o, 'op');
    if (typeof op !== 'string') throw new PatchError("attribute 'op' must be a string");
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op)) throw new PatchError(`unrecognized op '${op}'`);
    const path = parsePath(attr(o, 'path'));
    switch (op) {
      case 'add': cur = insert(cur, path, attr(o, 'value')); break;
      case 'remove': cur = remove(cur, path); break;
      case 'replace': {
        const value = attr(o, 'value');
        cur = insert(remove(cur, path), path, value);
        break;
      }
      case 'move': {
        const from = parsePath(attr(o, 'from'));
        const chunk = get(cur, from);
        cur = insert(remove(cur, from), path, chunk);
        break;
      }
      case 'copy': {
        const from = parsePath(attr(o, 'from'));
        cur = insert(cur, path, get(cur, from));
        break;
      }
      case 'test':
        if (!equal(get(cur, path), attr(o, 'value'))) throw new PatchError('test failed');
        break;
    }
  }
  return cur;
}

export const builtins: BuiltinTable = {
  'json.filter': {
    name: 'json.filter',
    args: ['object', 'set|array'],
    result: 'any',
    fn: ([o, p]) => filterValue(obj(o, 1), pathsToTree(paths(p))),
  },
  'json.remove': {
    name: 'json.remove',
    args: ['object', 'set|array'],
    result: 'any',
    fn: ([o, p]) => removeValue(obj(o, 1), pathsToTree(paths(p))),
  },
  'json.patch': {
    name: 'json.patch',
    args: ['any', 'array[object]'],
    result: 'any',
    fn: ([doc, ops]) => {
      const patches = arr(ops, 2);
      try {
        return applyPatch(doc, patches);
      } catch (e) {
        // OPA makes a failed patch undefined rather than an error
        if (e instanceof PatchError || e instanceof OperandTypeError) return undefined;
        throw e;
      }
    },
  },
};
