import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { CodecOperations, createProtobufCodec, protobufCodecFromType, type Codec } from '../../src/codecs/index.js';
import { ErrorCodes } from '../../src/errors.js';
import { assertCodecError } from './codec-fixtures.js';

const PROTO = `
syntax = "proto3";
package demo;
message Counter {
  string name = 1;
  int64 count = 2;
  repeated double samples = 3;
  map<string, int32> tags = 4;
  bytes blob = 5;
  Inner inner = 6;
}
message Inner { bool on = 1; }
`;

describe('ProtobufCodec', () => {
  let codec: Codec;
  before(async () => {
    codec = await createProtobufCodec({ proto: PROTO, type: 'demo.Counter' });
  });

  describe('createProtobufCodec', () => {
    it('names the codec after the message type', () => {
      assert.equal(codec.name, 'protobuf:demo.Counter');
    });

    it('takes a custom name', async () => {
      assert.equal((await createProtobufCodec({ proto: PROTO, type: 'demo.Counter', name: 'counter-v1' })).name, 'counter-v1');
    });

    it('rejects an unknown message type with a CodecError', async () => {
      await assert.rejects(createProtobufCodec({ proto: PROTO, type: 'demo.Nope' }), { code: ErrorCodes.CODEC });
    });

    it('rejects a malformed .proto source with a CodecError', async () => {
      await assert.rejects(createProtobufCodec({ proto: 'message {', type: 'x' }), { code: ErrorCodes.CODEC });
    });

    it('accepts a protobufjs Type directly', async () => {
      const type = protobuf.parse(PROTO).root.lookupType('demo.Inner');
      const inner = await createProtobufCodec({ type });
      assert.deepStrictEqual(inner.decode(inner.encode({ on: true })), { on: true });
      assert.equal(protobufCodecFromType(type).name, 'protobuf:demo.Inner');
    });
  });

  describe('#encode / #decode', () => {
    it('round-trips a message in normal form (BigInt longs, every field present)', () => {
      const state = { name: 'c', count: 12_345_678_901_234_567n, samples: [1.5, 2], tags: { a: 1 }, blob: Buffer.from([1, 2]), inner: { on: true } };
      assert.deepStrictEqual(codec.decode(codec.encode(state)), state);
    });

    it('fills unset fields with their defaults', () => {
      assert.deepStrictEqual(codec.decode(codec.encode({ name: 'only' })), {
        name: 'only',
        count: 0n,
        samples: [],
        tags: {},
        blob: Buffer.alloc(0),
        inner: null,
      });
    });
  });

  describe('#encode', () => {
    it('rejects a field of the wrong type, naming it', () => {
      assertCodecError(() => codec.encode({ name: 5 }), { codec: 'protobuf:demo.Counter', operation: CodecOperations.ENCODE, reason: /name: string expected/ });
    });

    it('rejects a non-object state', () => {
      assertCodecError(() => codec.encode([1]), { operation: CodecOperations.ENCODE });
    });
  });

  describe('#decode', () => {
    it('rejects bytes that are not a message with a CodecError', () => {
      assertCodecError(() => codec.decode(new Uint8Array([0xff, 0xff, 0xff])), { codec: 'protobuf:demo.Counter', operation: CodecOperations.DECODE });
    });

    it('rejects a truncated message', () => {
      const bytes = codec.encode({ name: 'a longer name', samples: [1, 2, 3] });
      assertCodecError(() => codec.decode(bytes.subarray(0, bytes.length - 3)));
    });
  });
});
