import assert from 'node:assert/strict';
import { TaskCrashedError, TaskRef, defineTask, isGodwitError, type Runtime } from '../../src/index.js';
import { counter } from '../fixtures.js';
import { manualRuntime, nextEvent, quietRuntime } from '../helpers.js';

type Msg = { type: 'put'; key: string; value: unknown } | { type: 'get'; key: string } | { type: 'poison' } | { type: 'bad-reply' };

const store = defineTask<{ entries: Map<string, unknown>; since: Date; poison?: () => void }, Msg, unknown>({
  name: 'store',
  init: () => ({ entries: new Map(), since: new Date(0) }),
  receive(s, msg, ctx) {
    switch (msg.type) {
      case 'put':
        s.entries.set(msg.key, msg.value);
        return s;
      case 'get':
        ctx.reply(s.entries.get(msg.key));
        return s;
      case 'poison':
        return { ...s, poison: () => {} };
      case 'bad-reply':
        ctx.reply(() => 'a function cannot cross a node');
        return s;
    }
  },
});

describe('serialization', () => {
  let rt: Runtime;
  afterEach(async () => rt?.shutdown());

  describe('simulateSerialization', () => {
    beforeEach(() => (rt = quietRuntime({ simulateSerialization: true })));

    it('passes Maps, Dates, BigInts, typed arrays and TaskRefs through the codec unchanged', async () => {
      const ref = rt.spawn(store);
      const value = { at: new Date(5), big: 2n ** 70n, bytes: new Float64Array([1.5, 2.5]), ref: new TaskRef('other', 'counter'), nested: new Map([[1, 'one']]) };
      rt.send(ref, { type: 'put', key: 'k', value });
      const back = (await rt.ask(ref, { type: 'get', key: 'k' })) as typeof value;
      assert.deepEqual(back, value);
      assert.ok(back.ref instanceof TaskRef);
    });

    it('makes a message that cannot be encoded the sender\'s CodecError, and delivers nothing', async () => {
      const ref = rt.spawn(store);
      assert.throws(() => rt.send(ref, { type: 'put', key: 'f', value: () => 1 }), (err: unknown) => isGodwitError(err) && err.code === 'GODWIT_ERR_CODEC');
      assert.equal(await rt.ask(ref, { type: 'get', key: 'f' }), undefined);
    });

    it('turns a state that cannot be encoded into a crash with the CodecError, before any migration', async () => {
      const ref = rt.spawn(store);
      const crashed = nextEvent(rt, 'task.crashed');
      await assert.rejects(rt.ask(ref, { type: 'poison' }), TaskCrashedError);
      const e = await crashed;
      assert.equal((e.err as { code?: string }).code, 'GODWIT_ERR_CODEC');
    });

    it('rejects an ask whose reply cannot be encoded with the CodecError', async () => {
      const ref = rt.spawn(store);
      await assert.rejects(rt.ask(ref, { type: 'bad-reply' }), (err: unknown) => isGodwitError(err) && err.code === 'GODWIT_ERR_CODEC');
    });
  });

  describe('snapshots', () => {
    it('re-places a task through its own codec (json here)', async () => {
      rt = quietRuntime({ snapshotIntervalMs: Infinity });
      const jsonCounter = defineTask({ ...counter, name: 'json-counter', codec: 'json' });
      const ref = rt.spawn(jsonCounter, { input: 41, affinity: { prefer: [{ kind: 'cpu' }] } });
      assert.equal(await rt.ask(ref, { type: 'get' }), 41);
      const replaced = nextEvent(rt, 'task.replaced');
      rt.failResource('cpu-0');
      assert.equal((await replaced).fromSnapshot, true);
      assert.equal(await rt.ask(ref, { type: 'get' }), 41);
    });

    it('refuses a task naming a codec nobody registered', () => {
      rt = quietRuntime();
      assert.throws(() => rt.spawn(defineTask({ ...counter, name: 'odd', codec: 'msgpack' })), { code: 'GODWIT_ERR_UNKNOWN_CODEC' });
    });

    it('keeps the last good snapshot when a later state cannot be encoded', async () => {
      const m = manualRuntime();
      rt = m.rt;
      const ref = rt.spawn(store, { affinity: { prefer: [{ kind: 'cpu' }] } });
      assert.equal(await rt.ask(ref, { type: 'get', key: 'a' }), undefined); // init, and its snapshot, at t=0
      rt.send(ref, { type: 'put', key: 'a', value: 1 });
      m.clock.advance(1000);
      assert.equal(await rt.ask(ref, { type: 'get', key: 'a' }), 1); // snapshot: a=1
      rt.send(ref, { type: 'poison' });
      m.clock.advance(1000);
      rt.send(ref, { type: 'put', key: 'b', value: 2 }); // its snapshot fails: the state holds a function
      assert.equal(await rt.ask(ref, { type: 'get', key: 'b' }), 2);
      const replaced = nextEvent(rt, 'task.replaced');
      rt.failResource('cpu-0');
      m.clock.advance(0); // the re-placement runs on the (manual) clock
      assert.equal((await replaced).fromSnapshot, true);
      assert.equal(await rt.ask(ref, { type: 'get', key: 'a' }), 1);
      assert.equal(await rt.ask(ref, { type: 'get', key: 'b' }), undefined);
    });
  });
});
