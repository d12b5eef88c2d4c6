import assert from 'node:assert/strict';
import {
  cborCodec,
  cborEncode,
  Compressions,
  crc32c,
  decodeSnapshot,
  encodeSnapshot,
  openSnapshot,
  readSnapshotHeader,
  sealSnapshot,
  SNAPSHOT_FIXED_HEADER_BYTES,
  checksumOf,
  snapshotHeaderBytes,
  writeSnapshotHeader,
} from '../../src/codecs/index.js';
import { ErrorCodes } from '../../src/errors.js';
import { assertCodecError, assertThrowsCode, pseudoRandomBytes } from './codec-fixtures.js';

const state = { count: 7, names: ['a', 'b'], blob: new Uint8Array(300).fill(3) };

function envelope(compress?: 'none' | 'deflate' | 'brotli'): Uint8Array {
  return encodeSnapshot({ task: 'counter', stateVersion: 3, codec: cborCodec, state, ...(compress ? { compress } : {}) });
}

describe('SnapshotEnvelope', () => {
  describe('#sealSnapshot', () => {
    it('writes the documented layout', () => {
      const payload = new Uint8Array([1, 2, 3]);
      const bytes = sealSnapshot({ task: 'ab', stateVersion: 258, codec: 'cbor', payload });
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), 'GWSN');
      assert.equal(bytes[4], 1); // format version
      assert.equal(bytes[5], 0); // no compression
      assert.equal(bytes[6], 4); // codec name length
      assert.equal(view.getUint16(8, true), 2); // task name length
      const headerBytes = view.getUint16(10, true);
      assert.equal(headerBytes, 48); // 40 + 4 + 2 rounded up to 8
      assert.equal(view.getUint32(12, true), 258);
      assert.equal(view.getUint32(16, true), 3); // payload length (low word)
      assert.equal(view.getUint32(24, true), 3); // raw length (low word)
      assert.equal(view.getUint32(32, true), crc32c(payload));
      assert.equal(new TextDecoder().decode(bytes.subarray(40, 44)), 'cbor');
      assert.equal(new TextDecoder().decode(bytes.subarray(44, 46)), 'ab');
      assert.deepStrictEqual([...bytes.subarray(headerBytes)], [1, 2, 3]);
      assert.equal(bytes.byteLength, headerBytes + 3);
    });

    it('keeps the payload 8-byte aligned for any name length', () => {
      for (let n = 0; n < 17; n++) {
        const h = readSnapshotHeader(sealSnapshot({ task: 'x'.repeat(n), stateVersion: 1, codec: 'cbor', payload: new Uint8Array(1) }));
        assert.equal(h.headerBytes % 8, 0);
        assert.ok(h.headerBytes >= SNAPSHOT_FIXED_HEADER_BYTES + 4 + n);
      }
    });

    it('refuses a state version outside u32', () => {
      assertThrowsCode(() => sealSnapshot({ task: 't', stateVersion: -1, codec: 'cbor', payload: new Uint8Array(0) }), ErrorCodes.INVALID_ARGUMENT);
      assertThrowsCode(() => sealSnapshot({ task: 't', stateVersion: 2 ** 32, codec: 'cbor', payload: new Uint8Array(0) }), ErrorCodes.INVALID_ARGUMENT);
    });

    for (const how of [Compressions.DEFLATE, Compressions.BROTLI]) {
      it(`compresses with ${how} when it shrinks the payload`, () => {
        const bytes = envelope(how);
        const header = readSnapshotHeader(bytes);
        assert.equal(header.compression, how);
        assert.ok(header.payloadBytes < header.rawBytes);
        assert.deepStrictEqual(decodeSnapshot(bytes, { expect: { task: 'counter', stateVersion: 3 } }).state, state);
      });
    }

    it('stores incompressible payloads uncompressed', () => {
      const bytes = sealSnapshot({ task: 't', stateVersion: 1, codec: 'raw', payload: pseudoRandomBytes(4096), compress: 'deflate' });
      assert.equal(readSnapshotHeader(bytes).compression, Compressions.NONE);
    });
  });

  describe('#readSnapshotHeader', () => {
    it('returns the fields', () => {
      const h = readSnapshotHeader(envelope());
      assert.equal(h.codec, 'cbor');
      assert.equal(h.task, 'counter');
      assert.equal(h.stateVersion, 3);
      assert.equal(h.formatVersion, 1);
      assert.equal(h.rawBytes, cborEncode(state).byteLength);
    });

    const faults: Record<string, [(b: Uint8Array) => Uint8Array, RegExp]> = {
      'input shorter than a header': [(b) => b.subarray(0, 20), /shorter than a snapshot header/],
      'a bad magic': [(b) => withByte(b, 0, 0x00), /bad magic/],
      'an unknown format version': [(b) => withByte(b, 4, 9), /format version 9/],
      'a flipped header bit': [(b) => withByte(b, 13, b[13]! ^ 0x10), /header checksum mismatch/],
      'a truncated payload': [(b) => b.subarray(0, b.length - 1), /truncated/],
      'trailing bytes': [(b) => concat(b, new Uint8Array([0])), /trailing bytes/],
    };
    for (const [name, [mutate, reason]] of Object.entries(faults)) {
      it(`rejects ${name}`, () => {
        assertCodecError(() => readSnapshotHeader(mutate(envelope())), { codec: 'envelope', reason });
      });
    }
  });

  describe('#openSnapshot', () => {
    it('returns the payload as a view when uncompressed', () => {
      const bytes = envelope();
      const { payload, header } = openSnapshot(bytes);
      assert.equal(payload.buffer, bytes.buffer);
      assert.equal(payload.byteOffset, bytes.byteOffset + header.headerBytes);
    });

    it('rejects a flipped payload bit by its checksum', () => {
      const bytes = envelope();
      const last = bytes.length - 1;
      assertCodecError(() => openSnapshot(withByte(bytes, last, bytes[last]! ^ 1)), { codec: 'envelope', reason: /payload checksum mismatch/ });
    });

    it('enforces maxRawBytes before decompressing', () => {
      assertCodecError(() => openSnapshot(envelope('deflate'), { maxRawBytes: 10 }), { reason: /exceeds the limit/ });
    });

    it('rejects a compressed payload that inflates to another length', () => {
      // a valid deflate stream whose header claims a larger raw length: rebuild the header checksum too
      const bytes = envelope('deflate');
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      view.setUint32(24, view.getUint32(24, true) + 1, true);
      const headerBytes = view.getUint16(10, true);
      view.setUint32(36, crc32c(bytes.subarray(40, headerBytes), crc32c(bytes.subarray(0, 36))), true);
      assertCodecError(() => openSnapshot(bytes), { codec: 'envelope', reason: /decompresses to/ });
    });
  });
});

function withByte(bytes: Uint8Array, index: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = value;
  return copy;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

describe('SnapshotEnvelope#writeSnapshotHeader', () => {
  it('seals a payload already in place, with a CRC-32 checksum when flagged; open verifies by the flag', () => {
    const payload = cborEncode(state);
    const h = snapshotHeaderBytes('cbor', 'counter');
    const out = new Uint8Array(h + payload.byteLength);
    out.set(payload, h);
    writeSnapshotHeader(out, { task: 'counter', stateVersion: 3, codec: 'cbor', payloadBytes: payload.byteLength, payloadChecksum: checksumOf('crc32', payload), checksum: 'crc32' });
    const header = readSnapshotHeader(out);
    assert.deepEqual([header.checksum, header.codec, header.task, header.stateVersion, header.headerBytes], ['crc32', 'cbor', 'counter', 3, h]);
    assert.deepEqual(decodeSnapshot(out, { expect: { task: 'counter', stateVersion: 3 } }).state, state);
    const corrupt = out.slice();
    corrupt[h + 3]! ^= 1;
    assertCodecError(() => openSnapshot(corrupt), { codec: 'envelope', reason: /payload checksum mismatch/ });
    assert.equal(readSnapshotHeader(sealSnapshot({ task: 'counter', stateVersion: 3, codec: 'cbor', payload })).checksum, 'crc32c', 'sealSnapshot keeps CRC-32C');
  });

  it('refuses unknown flag bits in byte 7', () => {
    const env = envelope().slice();
    env[7] = 2;
    const view = new DataView(env.buffer);
    const h = view.getUint16(10, true);
    view.setUint32(36, crc32c(env.subarray(40, h), crc32c(env.subarray(0, 36))), true);
    assertCodecError(() => readSnapshotHeader(env), { codec: 'envelope', reason: /flags 2 are not known/ });
  });
});
