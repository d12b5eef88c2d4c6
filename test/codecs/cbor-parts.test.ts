import assert from 'node:assert/strict';
import { cborEncode } from '../../src/codecs/cbor.js';
import { cborEncodeParts } from '../../src/codecs/cbor-parts.js';
import { ChunkAssembler, createChunkStream } from '../../src/codecs/index.js';
import { TaskRef } from '../../src/index.js';
import { bumpCopier } from '../../src/runtime/warm-buffer.js';

const join = (parts: Uint8Array[]) => Buffer.concat(parts);

describe('cborEncodeParts', () => {
  const big = new Uint8Array(3000).fill(9);
  const buf = Buffer.alloc(2000, 5);

  it('gives the exact bytes of cborEncode, with large byte arrays as views of the state, for nested shapes', () => {
    const states: unknown[] = [
      { data: big, hits: 3 },
      { a: [1, { b: big, c: 'x' }, buf], z: null, ref: new TaskRef('t', 'k') },
      [big, big],
      big,
      { m: new Map([[1, big]]), d: new Date(5), f: new Float64Array(4), data: buf },
      { small: new Uint8Array(10), n: 1 },
      { w: new Float64Array(500).fill(1.5), i: [new Int32Array(400).fill(-3), new Uint16Array(600).fill(7)], b: new BigInt64Array(200).fill(5n), f: new Float32Array(300).fill(0.25) },
      { offset: new Float64Array(new ArrayBuffer(8 * 300), 8 * 100, 150).fill(2) },
    ];
    for (const state of states) {
      const parts = cborEncodeParts(state, 1000);
      assert.deepEqual(join(parts), Buffer.from(cborEncode(state)));
    }
    const parts = cborEncodeParts({ a: [1, { b: big }], c: buf }, 1000);
    assert.ok(parts.some((p) => p.buffer === big.buffer) && parts.some((p) => p.buffer === buf.buffer), 'no copy of the large arrays');
    assert.equal(cborEncodeParts({ small: new Uint8Array(10) }, 1000).length, 1);
    const weights = new Float64Array(500).fill(1.5);
    assert.ok(cborEncodeParts({ weights }, 1000).some((p) => p.buffer === weights.buffer), 'typed arrays are passed by reference too');
  });

  it('streams as chunks that span pieces, reassembled to the same bytes', () => {
    const state = { head: 'h', data: big, mid: [1, 2, 3], more: buf };
    const parts = cborEncodeParts(state, 1000);
    const producer = createChunkStream(parts, { chunkBytes: 777, checksum: 'crc32' });
    const a = new ChunkAssembler();
    for (let i = 0; i < producer.count; i++) {
      const { head, payload } = producer.parts(i);
      a.pushParts(head, payload);
    }
    assert.deepEqual(Buffer.from(a.finish()), Buffer.from(cborEncode(state)));
  });

  it('with a copier, is a snapshot: the large arrays are copied (into the given buffer while they fit) and later writes to the state do not show', () => {
    const live = { data: new Uint8Array(3000).fill(1), n: 1, more: Buffer.alloc(2000, 2) };
    const before = Buffer.from(cborEncode(live));
    const scratch = new Uint8Array(4000); // room for the first array only: the second goes to fresh memory
    const parts = cborEncodeParts(live, 1000, bumpCopier(scratch));
    live.data.fill(7);
    live.more.fill(8);
    live.n = 2;
    assert.deepEqual(join(parts), before);
    assert.ok(parts.some((p) => p.buffer === scratch.buffer && p.byteLength === 3000), 'the first array went into the scratch buffer');
    assert.ok(!parts.some((p) => p.buffer === live.data.buffer || p.buffer === live.more.buffer), 'no piece is a view of the live state');
  });
});
