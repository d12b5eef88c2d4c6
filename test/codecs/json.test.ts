import assert from 'node:assert/strict';
import { TaskRef } from '../../src/actors/ref.js';
import { CodecOperations, jsonCodec, jsonDecode, jsonEncode } from '../../src/codecs/index.js';
import { assertCodecError, jsonShapes } from './codec-fixtures.js';

describe('JsonCodec', () => {
  describe('#encode / #decode', () => {
    for (const [name, value] of Object.entries(jsonShapes())) {
      it(`round-trips ${name}`, () => {
        assert.deepStrictEqual(jsonCodec.decode(jsonCodec.encode(value)), value);
      });
    }

    it('writes a TaskRef as { $taskRef, task }', () => {
      const text = new TextDecoder().decode(jsonEncode({ to: new TaskRef('id-1', 'counter') }));
      assert.equal(text, '{"to":{"$taskRef":"id-1","task":"counter"}}');
    });

    it('keeps a shared (not cyclic) object reachable twice', () => {
      const shared = { a: 1 };
      assert.deepStrictEqual(jsonDecode(jsonEncode([shared, shared])), [{ a: 1 }, { a: 1 }]);
    });
  });

  describe('#encode', () => {
    const rejected: Record<string, [unknown, RegExp]> = {
      'a BigInt': [{ n: 1n }, /bigint at \$\.n/],
      'a Map': [{ m: new Map() }, /Map at \$\.m/],
      'a Set': [[new Set()], /Set at \$\[0\]/],
      'a Date': [{ d: new Date(0) }, /Date at \$\.d/],
      'a typed array': [{ t: new Float64Array(1) }, /Float64Array/],
      'undefined as a property': [{ a: { b: undefined } }, /undefined at \$\.a\.b/],
      'undefined at the top': [undefined, /undefined at \$/],
      'NaN': [[1, Number.NaN], /NaN at \$\[1\]/],
      'Infinity': [{ x: Infinity }, /Infinity/],
      '-0': [{ x: -0 }, /-0 at \$\.x/],
      'a function': [{ f: () => 1 }, /function/],
      'a class instance': [{ c: new (class Point { x = 1 })() }, /Point/],
      'a cycle': [(() => { const o: Record<string, unknown> = {}; o.self = o; return o; })(), /cycle at \$\.self/],
    };
    for (const [name, [value, reason]] of Object.entries(rejected)) {
      it(`rejects ${name} with a CodecError naming the path`, () => {
        assertCodecError(() => jsonEncode(value), { codec: 'json', operation: CodecOperations.ENCODE, reason });
      });
    }
  });

  describe('#decode', () => {
    it('rejects malformed JSON', () => {
      assertCodecError(() => jsonDecode(new TextEncoder().encode('{"a":')), { codec: 'json', operation: CodecOperations.DECODE });
    });

    it('rejects invalid UTF-8', () => {
      assertCodecError(() => jsonDecode(new Uint8Array([0x22, 0xff, 0x22])), { codec: 'json' });
    });

    it('leaves an object with extra fields beside $taskRef alone', () => {
      const value = { $taskRef: 'x', task: 'y', other: 1 };
      assert.deepStrictEqual(jsonDecode(jsonEncode(value)), value);
    });
  });
});
