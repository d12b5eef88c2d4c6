import assert from 'node:assert/strict';
import {
  type Codec,
  CodecNotLoadedError,
  createCodecRegistry,
  defaultCodecRegistry,
  cborCodec,
  jsonCodec,
  UnknownCodecError,
} from '../../src/codecs/index.js';
import { ErrorCodes } from '../../src/errors.js';
import { assertThrowsCode } from './codec-fixtures.js';

const upper: Codec = {
  name: 'upper',
  encode: (v) => new TextEncoder().encode(String(v).toUpperCase()),
  decode: (b) => new TextDecoder().decode(b),
};

describe('CodecRegistry', () => {
  describe('#get', () => {
    it('returns the built-in cbor and json codecs', () => {
      const registry = createCodecRegistry();
      assert.equal(registry.get('cbor'), cborCodec);
      assert.equal(registry.get('json'), jsonCodec);
      assert.deepStrictEqual(registry.names().sort(), ['arrow', 'cbor', 'json']);
    });

    it('throws UnknownCodecError for an unknown name', () => {
      const err = assertThrowsCode<UnknownCodecError>(() => createCodecRegistry().get('nope'), ErrorCodes.UNKNOWN_CODEC);
      assert.equal(err.codecName, 'nope');
      assert.match(err.message, /codec nope is not registered/);
    });

    it('throws CodecNotLoadedError for a lazy codec not loaded yet', () => {
      const err = assertThrowsCode(() => createCodecRegistry().get('arrow'), ErrorCodes.CODEC);
      assert.ok(err instanceof CodecNotLoadedError);
      assert.match(err.message, /registry\.load\('arrow'\)/);
    });
  });

  describe('#load', () => {
    it('loads the lazy arrow codec once, then get is synchronous', async () => {
      const registry = createCodecRegistry();
      assert.equal(registry.isLoaded('arrow'), false);
      const [a, b] = await Promise.all([registry.load('arrow'), registry.load('arrow')]);
      assert.equal(a, b);
      assert.equal(registry.get('arrow'), a);
      assert.equal(registry.isLoaded('arrow'), true);
    });

    it('rejects with UnknownCodecError for an unknown name', async () => {
      await assert.rejects(createCodecRegistry().load('nope'), { code: ErrorCodes.UNKNOWN_CODEC });
    });

    it('wraps a failing loader into a CodecError and lets a later load retry', async () => {
      const registry = createCodecRegistry({ builtins: false });
      let attempts = 0;
      registry.register({
        name: 'flaky',
        lazy: true,
        load: async () => {
          attempts++;
          if (attempts === 1) throw new Error('disk on fire');
          return { ...upper, name: 'flaky' };
        },
      });
      await assert.rejects(registry.load('flaky'), { code: ErrorCodes.CODEC, message: /could not load: disk on fire/ });
      assert.equal((await registry.load('flaky')).name, 'flaky');
    });
  });

  describe('#register', () => {
    it('adds a user codec and replaces one of the same name', () => {
      const registry = createCodecRegistry({ builtins: false });
      assert.deepStrictEqual(registry.names(), []);
      registry.register(upper);
      assert.equal(registry.has('upper'), true);
      const other = { ...upper };
      registry.register(other);
      assert.equal(registry.get('upper'), other);
    });

    it('refuses something that is not a codec', () => {
      assertThrowsCode(() => createCodecRegistry().register({ name: 'x' } as unknown as Codec), ErrorCodes.INVALID_ARGUMENT);
    });

    it('refuses an empty name', () => {
      assertThrowsCode(() => createCodecRegistry().register({ ...upper, name: '' }), ErrorCodes.INVALID_ARGUMENT);
    });
  });

  describe('#resolve', () => {
    it('uses a codec object as is, looks up names and { name }, defaults to cbor', () => {
      const registry = createCodecRegistry();
      assert.equal(registry.resolve(upper), upper);
      assert.equal(registry.resolve('json'), jsonCodec);
      assert.equal(registry.resolve({ name: 'json' }), jsonCodec);
      assert.equal(registry.resolve(undefined), cborCodec);
    });

    it('resolveAsync loads a lazy codec', async () => {
      const codec = await createCodecRegistry().resolveAsync({ name: 'arrow' });
      assert.equal(codec.name, 'arrow');
    });
  });

  describe('defaultCodecRegistry', () => {
    it('is shared and has the built-ins', () => {
      assert.equal(defaultCodecRegistry.get('cbor'), cborCodec);
      assert.equal(defaultCodecRegistry.has('arrow'), true);
    });
  });
});
