/** Type builtins: is_*, type_name, to_number and the deprecated cast_* (OPA types.go, casts.go). */
import { numFromString } from '../num.js';
import { isArray, isNum, isObject, isSet, makeSet, typeName, type Value } from '../value.js';
import { BuiltinError, type BuiltinTable } from './registry.js';
import { typeErr } from './operands.js';

/** Go's strconv.ParseFloat decimal syntax, normalized to a JSON number literal. */
function parseNumberString(s: string): Value {
  const trimmed = s.replace(/^[+-]+/, '').toLowerCase();
  if (trimmed === 'inf' || trimmed === 'infinity' || trimmed === 'nan') {
    throw typeErr(1, s, 'valid number string');
  }
  const m = /^([+-]?)([0-9_]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '') || m[2].includes('_')) {
    throw new BuiltinError(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
  }
  const int = m[2].replace(/^0+(?=[0-9])/, '') || '0';
  const frac = m[3] ? `.${m[3]}` : '';
  const exp = m[4] ? `e${m[4]}` : '';
  const n = numFromString(`${m[1] === '-' ? '-' : ''}${int}${frac === '.' ? '' : frac}${exp}`);
  if (n === undefined || !Number.isFinite(Number(s.replace(/_/g, '')))) {
    throw new BuiltinError(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: value out of range`);
  }
  return n;
}

function is(name: string, test: (v: Value) => boolean): BuiltinTable[string] {
  return { name, args: ['any'], result: 'boolean', fn: ([x]) => test(x) };
}

function cast(name: string, kind: string, test: (v: Value) => boolean): BuiltinTable[string] {
  return {
    name,
    args: ['any'],
    result: kind,
    fn: ([x]) => {
      if (!test(x)) throw typeErr(1, x, kind);
      return x;
    },
  };
}

export const builtins: BuiltinTable = {
  is_number: is('is_number', isNum),
  is_string: is('is_string', (v) => typeof v === 'string'),
  is_boolean: is('is_boolean', (v) => typeof v === 'boolean'),
  is_array: is('is_array', isArray),
  is_set: is('is_set', isSet),
  is_object: is('is_object', isObject),
  is_null: is('is_null', (v) => v === null),
  type_name: { name: 'type_name', args: ['any'], result: 'string', fn: ([x]) => typeName(x) },
  to_number: {
    name: 'to_number',
    args: ['null|boolean|number|string'],
    result: 'number',
    fn: ([x]) => {
      if (x === null) return 0;
      if (typeof x === 'boolean') return x ? 1 : 0;
      if (isNum(x)) return x;
      if (typeof x === 'string') return parseNumberString(x);
      throw typeErr(1, x, 'null', 'boolean', 'number', 'string');
    },
  },
  cast_array: {
    name: 'cast_array',
    args: ['any'],
    result: 'array',
    fn: ([x]) => {
      if (isArray(x)) return x;
      if (isSet(x)) return x.values().slice();
      throw typeErr(1, x, 'array', 'set');
    },
  },
  cast_set: {
    name: 'cast_set',
    args: ['any'],
    result: 'set',
    fn: ([x]) => {
      if (isSet(x)) return x;
      if (isArray(x)) return makeSet(x);
      throw typeErr(1, x, 'array', 'set');
    },
  },
  cast_string: cast('cast_string', 'string', (v) => typeof v === 'string'),
  cast_boolean: cast('cast_boolean', 'boolean', (v) => typeof v === 'boolean'),
  cast_null: cast('cast_null', 'null', (v) => v === null),
  cast_object: cast('cast_object', 'object', isObject),
};
