import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate, builtins as template } from '../src/builtins/go/template.js';
import { builtins as schema } from '../src/builtins/jsonschema.js';
import { BuiltinError, type BuiltinContext } from '../src/builtins/registry.js';
import { fromJSON, jsonText, type Value } from '../src/value.js';

const ctx = {} as BuiltinContext;
const vars = fromJSON({ a: { b: [1, 2.5, 'x'] }, n: 0, s: 'hi', m: { z: 1, y: 'q' }, big: 12345678901234567890 });

test('render_template: fields, printing and control flow as Go text/template', () => {
  const r = (t: string): string => renderTemplate(t, vars);
  assert.equal(r('{{.a.b}}'), '[1 2.5 x]');
  assert.equal(r('{{range $i, $e := .a.b}}{{if $i}},{{end}}{{$e}}{{end}}'), '1,2.5,x');
  assert.equal(r('{{ .s -}} !  {{- .s }}'), 'hi!hi');
  assert.equal(r('{{if .n}}yes{{else if .s}}s{{else}}no{{end}}'), 's');
  assert.equal(r('{{with .m}}{{.z}}-{{.y}}{{end}}'), '1-q');
  assert.equal(r('{{.m}}'), 'map[y:q z:1]');
  assert.equal(r('{{len .s}} {{index .a.b 2}} {{printf "%s=%v" .s .n}}'), '2 x hi=0');
  assert.equal(r('{{$x := 5}}{{$x}}{{$x = 6}}{{$x}}'), '56');
  assert.equal(r('{{define "t"}}[{{.}}]{{end}}{{template "t" .s}}'), '[hi]');
  assert.equal(r('{{eq .s "hi"}} {{lt 1 2}} {{and 1 0}} {{or 0 "x"}} {{not true}}'), 'true true 0 x false');
  assert.equal(r('{{.big}}'), '1.2345678901234567e+19', 'numbers reach the template as float64');
  assert.equal(r('{{range 3}}{{.}}{{end}}{{range .a.b}}{{if eq . "x"}}{{break}}{{end}}.{{end}}'), '012..');
  assert.equal(r('{{.s | printf "%q"}}'), '"hi"');
  assert.throws(() => r('{{.missing}}'), /map has no entry for key "missing"/);
  assert.throws(() => template['strings.render_template'].fn(['{{.x}}', fromJSON({})], ctx), BuiltinError);
});

test('json.match_schema / verify_schema report like gojsonschema', () => {
  const s = fromJSON({ properties: { id: { type: 'integer' } }, required: ['id'] });
  const ok = schema['json.match_schema'].fn([fromJSON({ id: 5 }), s], ctx) as Value;
  assert.equal(jsonText(ok), '[true,[]]');
  assert.equal(jsonText(schema['json.match_schema'].fn(['{"id": 5}', s], ctx)!), '[true,[]]');
  const bad = schema['json.match_schema'].fn([fromJSON({ id: 'foo' }), s], ctx) as Value;
  assert.equal(jsonText(bad), '[false,[{"desc":"Invalid type. Expected: integer, given: string","error":"id: Invalid type. Expected: integer, given: string","field":"id","type":"invalid_type"}]]');
  const missing = schema['json.match_schema'].fn([fromJSON({}), s], ctx) as Value;
  assert.match(jsonText(missing), /"error":"\(root\): id is required"/);
  assert.throws(() => schema['json.match_schema'].fn([fromJSON({}), fromJSON({ type: 'unknown' })], ctx), /has a primitive type that is NOT VALID -- given: \/unknown\//);
  assert.equal(jsonText(schema['json.verify_schema'].fn(['{"type": "boolean"}'], ctx)!), '[true,null]');
  assert.match(jsonText(schema['json.verify_schema'].fn([fromJSON({ type: 'x' })], ctx)!), /^\[false,"jsonschema: has a primitive type/);
  assert.match(jsonText(schema['json.verify_schema'].fn(['{not json'], ctx)!), /jsonschema: invalid JSON string/);
});
