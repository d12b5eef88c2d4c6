import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cborDecode, cborEncode, PartitionedState, partitionOfKey } from '../../src/codecs/index.js';
import { ErrorCodes } from '../../src/errors.js';
import { assertCodecError, assertThrowsCode } from './codec-fixtures.js';

type Op = { del: false; key: string; value: number } | { del: true; key: string };

function apply(state: PartitionedState<unknown>, ops: Op[]): void {
  for (const op of ops) {
    if (op.del) state.delete(op.key);
    else state.set(op.key, op.value);
  }
}

function contents(state: PartitionedState<unknown>): [string, unknown][] {
  return [...state.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Through the cbor codec, as on the wire. */
function wire<T>(value: T): unknown {
  return cborDecode(cborEncode(value));
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ del: fc.constant(false as const), key: fc.string({ maxLength: 3 }), value: fc.integer() }),
  fc.record({ del: fc.constant(true as const), key: fc.string({ maxLength: 3 }) }),
);

describe('PartitionedState', () => {
  describe('#get / #set / #delete', () => {
    it('behaves as a map and counts versions', () => {
      const s = new PartitionedState<number>({ partitionCount: 8 });
      assert.equal(s.version, 0);
      s.set('a', 1).set('b', 2).set('a', 3);
      assert.equal(s.get('a'), 3);
      assert.equal(s.has('b'), true);
      assert.equal(s.size, 2);
      assert.equal(s.delete('b'), true);
      assert.equal(s.delete('b'), false);
      assert.equal(s.get('b'), undefined);
      assert.equal(s.version, 4);
      assert.deepStrictEqual([...s.keys()], ['a']);
    });

    it('places keys by a stable FNV-1a hash', () => {
      const s = new PartitionedState({ partitionCount: 16 });
      assert.equal(s.partitionOf('user:42'), partitionOfKey('user:42', 16));
      assert.equal(partitionOfKey('', 16), 0x811c9dc5 % 16);
      assert.equal(partitionOfKey('a', 1 << 16), 0xe40c292c % (1 << 16));
    });

    it('stamps partitions with the version of their last change', () => {
      const s = new PartitionedState({ partitionCount: 4 });
      s.set('x', 1);
      const p = s.partitionOf('x');
      assert.equal(s.partitionVersion(p), 1);
      assert.deepStrictEqual(s.changedSince(0), [p]);
      assert.deepStrictEqual(s.changedSince(1), []);
    });

    it('refuses a bad partition count', () => {
      assertThrowsCode(() => new PartitionedState({ partitionCount: 0 }), ErrorCodes.INVALID_ARGUMENT);
      assertThrowsCode(() => new PartitionedState({ partitionCount: 1.5 }), ErrorCodes.INVALID_ARGUMENT);
    });
  });

  describe('#fullSnapshot / #deltaSince / #applyDelta', () => {
    it('full snapshot plus delta applied equals the source (property, through cbor)', () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 40 }), fc.array(opArb, { maxLength: 40 }), fc.integer({ min: 1, max: 16 }), (before, after, partitionCount) => {
          const source = new PartitionedState({ partitionCount, maxTombstonesPerPartition: 2 });
          apply(source, before);
          const full = wire(source.fullSnapshot());
          const base = source.version;
          apply(source, after);
          const delta = wire(source.deltaSince(base));
          const target = PartitionedState.fromSnapshot(full);
          target.applyDelta(delta);
          assert.deepStrictEqual(contents(target), contents(source));
          assert.equal(target.version, source.version);
        }),
        { numRuns: 200 },
      );
    });

    it('carries only changed partitions, with deletions', () => {
      const s = new PartitionedState<string>({ partitionCount: 64 });
      for (let i = 0; i < 100; i++) s.set(`k${i}`, 'v');
      const base = s.version;
      s.set('k1', 'new');
      s.delete('k2');
      const delta = s.deltaSince(base);
      const ids = new Set([s.partitionOf('k1'), s.partitionOf('k2')]);
      assert.deepStrictEqual(new Set(delta.partitions.map((p) => p.id)), ids);
      const all = delta.partitions.flatMap((p) => p.keys);
      assert.deepStrictEqual(all, ['k1']);
      assert.deepStrictEqual(delta.partitions.flatMap((p) => p.deleted), ['k2']);
      assert.equal(delta.fromVersion, base);
      assert.equal(delta.toVersion, base + 2);
    });

    it('sends a whole partition when the deletions it needs were forgotten, and stays exact', () => {
      const s = new PartitionedState<number>({ partitionCount: 1, maxTombstonesPerPartition: 2 });
      for (let i = 0; i < 6; i++) s.set(`k${i}`, i);
      const full = s.fullSnapshot();
      const base = s.version;
      for (let i = 0; i < 5; i++) s.delete(`k${i}`);
      const delta = s.deltaSince(base);
      assert.equal(delta.partitions[0]!.replace, true);
      const t = PartitionedState.fromSnapshot<number>(wire(full));
      t.applyDelta(wire(delta));
      assert.deepStrictEqual(contents(t), [['k5', 5]]);
    });

    it('rejects a delta that starts after this state (a delta is missing)', () => {
      const s = new PartitionedState();
      s.set('a', 1);
      const t = PartitionedState.fromSnapshot(s.fullSnapshot());
      s.set('b', 2);
      const v = s.version;
      s.set('c', 3);
      assertCodecError(() => t.applyDelta(s.deltaSince(v)), { codec: 'partitioned', reason: /a delta is missing/ });
    });

    it('applies an overlapping delta harmlessly', () => {
      const s = new PartitionedState();
      s.set('a', 1);
      s.set('b', 2);
      const t = PartitionedState.fromSnapshot(s.fullSnapshot());
      t.applyDelta(s.deltaSince(0));
      assert.deepStrictEqual(contents(t), contents(s));
    });

    it('refuses deltaSince a version it has not reached', () => {
      assertThrowsCode(() => new PartitionedState().deltaSince(5), ErrorCodes.INVALID_ARGUMENT);
    });
  });

  describe('#extract / #merge / #release', () => {
    it('moves a subset of partitions with pre-copy rounds, then releases them at the source', () => {
      const source = new PartitionedState<number>({ partitionCount: 8 });
      for (let i = 0; i < 200; i++) source.set(`key${i}`, i);
      const moving = [1, 5];
      // round 0: copy the partitions whole while the source keeps serving
      const target = new PartitionedState<number>({ partitionCount: 8, empty: true });
      target.merge(wire(source.extract(moving)));
      let copied = source.version;
      // rounds 1..3: only what changed since the last round, for the moving partitions
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 20; i++) source.set(`key${(i * 7 + round) % 200}`, 1000 + round);
        source.delete(`key${round}`);
        const delta = source.deltaSince(copied, moving);
        assert.ok(delta.partitions.every((p) => moving.includes(p.id)));
        target.applyDelta(wire(delta));
        copied = source.version;
      }
      const inMoving = contents(source).filter(([k]) => moving.includes(source.partitionOf(k)));
      assert.deepStrictEqual(contents(target), inMoving);
      source.release(moving);
      assert.deepStrictEqual(target.ownedPartitions(), moving);
      assert.deepStrictEqual(source.ownedPartitions(), [0, 2, 3, 4, 6, 7]);
      assert.equal(source.size + target.size, 200 - 3);
    });

    it('refuses keys of partitions it does not hold', () => {
      const s = new PartitionedState({ partitionCount: 4 });
      const key = 'abc';
      s.release([s.partitionOf(key)]);
      const err = assertThrowsCode(() => s.get(key), ErrorCodes.INVALID_ARGUMENT);
      assert.match(err.message, /does not hold/);
      assertThrowsCode(() => s.set(key, 1), ErrorCodes.INVALID_ARGUMENT);
    });

    it('refuses to merge a partition it already holds', () => {
      const s = new PartitionedState({ partitionCount: 4 });
      assertCodecError(() => s.merge(s.extract([2])), { codec: 'partitioned', reason: /already held/ });
    });

    it('refuses a delta for a partition it does not hold', () => {
      const s = new PartitionedState({ partitionCount: 4 });
      s.set('a', 1);
      const t = PartitionedState.fromSnapshot(s.extract([(s.partitionOf('a') + 1) % 4]));
      assertCodecError(() => t.applyDelta(s.deltaSince(0)), { reason: /does not hold/ });
    });
  });

  describe('validation of data from the wire', () => {
    const s = new PartitionedState({ partitionCount: 4 });
    s.set('a', 1);
    s.set('b', 2);
    const good = s.fullSnapshot();
    const cases: Record<string, unknown> = {
      'not an object': 5,
      'a wrong format tag': { ...good, format: 'x' },
      'a partition count out of range': { ...good, partitionCount: 0 },
      'a partition id out of range': { ...good, partitions: [{ ...good.partitions[0]!, id: 9 }] },
      'values not matching keys': { ...good, partitions: [{ ...good.partitions.find((p) => p.keys.length > 0)!, values: [] }] },
      'a key in the wrong partition': {
        ...good,
        partitions: good.partitions.map((p) => (p.id === s.partitionOf('a') ? { ...p, id: (p.id + 1) % 4 } : p)).filter((p, i, all) => all.findIndex((q) => q.id === p.id) === i),
      },
      'a duplicated partition': { ...good, partitions: [good.partitions[0], good.partitions[0]] },
      'a negative version': { ...good, version: -1 },
    };
    for (const [name, value] of Object.entries(cases)) {
      it(`rejects a snapshot with ${name}`, () => {
        assertCodecError(() => PartitionedState.fromSnapshot(value), { codec: 'partitioned' });
      });
    }

    it('rejects a delta with reversed versions', () => {
      assertCodecError(() => new PartitionedState({ partitionCount: 4 }).applyDelta({ ...s.deltaSince(0), fromVersion: 9, toVersion: 1 }), { codec: 'partitioned' });
    });
  });
});
