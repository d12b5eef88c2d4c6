import assert from 'node:assert/strict';
import {
  TaskCrashedError,
  UnknownTaskError,
  defineTask,
  simulatedDevice,
  type Directive,
  type Runtime,
  type TaskRef,
} from '../../src/index.js';
import { counter, counterWith } from '../fixtures.js';
import { manualRuntime, nextEvent, quietRuntime, recordEvents } from '../helpers.js';

describe('Supervisor', () => {
  let rt: Runtime;
  afterEach(async () => rt?.shutdown());

  describe('directives', () => {
    // After 3 incs from 10, a snapshot at n=13 (clock moved 1000 ms), then 2 more incs (n=15, not
    // snapshotted), then a crash: what does `get` answer, and where does the task run?
    const table: Array<{ directive: Directive; answer: number | 'gone'; resource: string; stopReason?: string }> = [
      { directive: 'restart', answer: 10, resource: 'cpu-0' },
      { directive: 'resume', answer: 15, resource: 'cpu-0' },
      { directive: 'replace', answer: 13, resource: 'gpu-0' },
      { directive: 'stop', answer: 'gone', resource: 'cpu-0', stopReason: 'directive' },
      { directive: 'escalate', answer: 'gone', resource: 'cpu-0', stopReason: 'failed' },
    ];
    for (const row of table) {
      it(`${row.directive}: the next answer is ${row.answer}`, async () => {
        const m = manualRuntime();
        rt = m.rt;
        const stops = recordEvents(rt, ['task.stopped']);
        const ref = rt.spawn(counterWith({ supervision: { directive: row.directive, backoff: { initialMs: 0 } } }), {
          id: 't',
          input: 10,
          affinity: { prefer: [{ kind: 'cpu' }] },
        });
        for (let i = 0; i < 3; i++) rt.send(ref, { type: 'inc' });
        assert.equal(await rt.ask(ref, { type: 'get' }), 13);
        m.clock.advance(1000);
        assert.equal(await rt.ask(ref, { type: 'get' }), 13); // this turn takes the snapshot
        rt.send(ref, { type: 'inc' });
        rt.send(ref, { type: 'inc' });
        const crashed = nextEvent(rt, 'task.crashed');
        const failing = rt.ask(ref, { type: 'crash' });
        await assert.rejects(failing, (err: unknown) => err instanceof TaskCrashedError && err.taskId === 't');
        assert.equal((await crashed).directive, row.directive);
        m.clock.advance(0);
        if (row.answer === 'gone') {
          await assert.rejects(rt.ask(ref, { type: 'get' }), UnknownTaskError);
          const last = stops.at(-1);
          assert.equal(last?.type === 'task.stopped' ? last.reason : undefined, row.stopReason);
          return;
        }
        assert.equal(await rt.ask(ref, { type: 'get' }), row.answer);
        assert.equal(rt.tasks()[0]?.resource, row.resource);
      });
    }

    it('lets a function choose the directive per error', async () => {
      rt = quietRuntime();
      const picky = counterWith({ supervision: { directive: (err) => ((err as Error).message === 'soft' ? 'resume' : 'stop') } });
      const ref = rt.spawn(picky, { input: 1 });
      rt.send(ref, { type: 'inc' });
      rt.send(ref, { type: 'crash', reason: 'soft' });
      assert.equal(await rt.ask(ref, { type: 'get' }), 2);
      rt.send(ref, { type: 'crash', reason: 'hard' });
      await assert.rejects(rt.ask(ref, { type: 'get' }), (err: unknown) => err instanceof UnknownTaskError || err instanceof Error);
    });
  });

  describe('restart intensity and backoff', () => {
    it('waits 10, 20, 40 ms before the restarts in a period, then escalates the fourth crash', async () => {
      const m = manualRuntime();
      rt = m.rt;
      const ref = rt.spawn(counter, { id: 'flaky' });
      const delays: number[] = [];
      for (let i = 0; i < 3; i++) {
        const crashed = nextEvent(rt, 'task.crashed');
        rt.send(ref, { type: 'crash' });
        await crashed;
        delays.push(m.clock.nextDueAt()! - m.clock.now());
        const restarted = nextEvent(rt, 'task.restarted');
        m.clock.advance(delays.at(-1)!);
        assert.equal((await restarted).restarts, i + 1);
      }
      assert.deepEqual(delays, [10, 20, 40]);
      const escalated = nextEvent(rt, 'task.escalated');
      const stopped = nextEvent(rt, 'task.stopped');
      rt.send(ref, { type: 'crash' });
      assert.equal((await escalated).to, 'cpu-0');
      const s = await stopped;
      assert.equal(s.reason, 'failed');
      assert.equal((s.err as Error).message, 'told to crash');
    });

    it('forgets restarts older than the period', async () => {
      const m = manualRuntime();
      rt = m.rt;
      const ref = rt.spawn(counterWith({ supervision: { maxRestarts: 1, withinMs: 1000 } }), { id: 'once' });
      for (const at of [0, 1500, 3000]) {
        m.clock.advance(at - m.clock.now());
        const restarted = nextEvent(rt, 'task.restarted');
        rt.send(ref, { type: 'crash' });
        await nextEvent(rt, 'task.crashed');
        m.clock.advance(10);
        assert.equal((await restarted).restarts, 1);
      }
      assert.equal(rt.tasks()[0]?.restarts, 3);
    });

    it('keeps messages that arrive during backoff and handles them after the restart', async () => {
      const m = manualRuntime();
      rt = m.rt;
      const ref = rt.spawn(counter, { input: 100 });
      rt.send(ref, { type: 'crash' });
      await nextEvent(rt, 'task.crashed');
      rt.send(ref, { type: 'inc' });
      const answer = rt.ask(ref, { type: 'get' });
      assert.equal(rt.tasks()[0]?.mailboxDepth, 2);
      m.clock.advance(10);
      assert.equal(await answer, 101);
    });

    it('restarts a task whose init throws, within the same budget', async () => {
      const m = manualRuntime();
      rt = m.rt;
      let attempts = 0;
      const fragile = defineTask({
        name: 'fragile',
        init: () => {
          if (++attempts < 3) throw new Error('not yet');
          return 'ready';
        },
        receive: (s, _msg, ctx) => (ctx.reply(s), s),
      });
      const ref = rt.spawn(fragile);
      const answer = rt.ask(ref, 'state?');
      await nextEvent(rt, 'task.crashed');
      m.clock.advance(10);
      await nextEvent(rt, 'task.crashed');
      m.clock.advance(20);
      assert.equal(await answer, 'ready');
      assert.equal(attempts, 3);
    });
  });

  describe('strategies', () => {
    const family = (strategy: 'one-for-one' | 'all-for-one') =>
      defineTask<TaskRef[], 'kids'>({
        name: 'family',
        supervision: { strategy, backoff: { initialMs: 0 } },
        init: (_i, ctx) => ['a', 'b', 'c'].map((id) => ctx.spawnChild(counter, { id })),
        receive: (kids, _m, ctx) => (ctx.reply(kids), kids),
      });

    const table: Array<{ strategy: 'one-for-one' | 'all-for-one'; after: number[] }> = [
      { strategy: 'one-for-one', after: [0, 5, 5] },
      { strategy: 'all-for-one', after: [0, 0, 0] },
    ];
    for (const row of table) {
      it(`${row.strategy}: a crash of child a leaves the children at ${row.after.join(', ')}`, async () => {
        const m = manualRuntime();
        rt = m.rt;
        const p = rt.spawn(family(row.strategy), { id: 'p' });
        const kids = await rt.ask<TaskRef[]>(p, 'kids');
        for (const k of kids) rt.send(k, { type: 'inc', by: 5 });
        for (const k of kids) assert.equal(await rt.ask(k, { type: 'get' }), 5);
        rt.send(kids[0]!, { type: 'crash' });
        await nextEvent(rt, 'task.crashed');
        m.clock.advance(10); // the crashed child's own backoff
        const counts = [];
        for (const k of kids) counts.push(await rt.ask(k, { type: 'get' }));
        assert.deepEqual(counts, row.after);
      });
    }

    it('all-for-one at the runtime level restarts the other tasks of the same resource only', async () => {
      const m = manualRuntime({ supervision: { strategy: 'all-for-one', backoff: { initialMs: 0 } } });
      rt = m.rt;
      const onCpu = { affinity: { require: { kinds: ['cpu' as const] } } };
      const x = rt.spawn(counter, { ...onCpu, input: 1 });
      const y = rt.spawn(counter, { ...onCpu, input: 2 });
      const z = rt.spawn(counter, { affinity: { require: { kinds: ['gpu'] } }, input: 3 });
      for (const r of [x, y, z]) rt.send(r, { type: 'inc', by: 10 });
      assert.deepEqual([await rt.ask(x, { type: 'get' }), await rt.ask(y, { type: 'get' }), await rt.ask(z, { type: 'get' })], [11, 12, 13]);
      rt.send(x, { type: 'crash' });
      await nextEvent(rt, 'task.crashed');
      m.clock.advance(0);
      assert.deepEqual([await rt.ask(x, { type: 'get' }), await rt.ask(y, { type: 'get' }), await rt.ask(z, { type: 'get' })], [1, 2, 13]);
    });

    it('escalates a child that spent its budget to the parent, which restarts and rebuilds its children', async () => {
      const m = manualRuntime();
      rt = m.rt;
      const brittle = counterWith({ name: 'brittle', supervision: { maxRestarts: 0 } });
      const parent = defineTask<TaskRef, 'kid'>({
        name: 'parent',
        init: (_i, ctx) => ctx.spawnChild(brittle, { id: 'kid' }),
        receive: (kid, _m, ctx) => (ctx.reply(kid), kid),
      });
      const p = rt.spawn(parent, { id: 'p' });
      const kid = await rt.ask<TaskRef>(p, 'kid');
      rt.send(kid, { type: 'inc' });
      const escalated = nextEvent(rt, 'task.escalated');
      const parentCrashed = nextEvent(rt, 'task.crashed', (e) => e.taskId === 'p');
      rt.send(kid, { type: 'crash' });
      assert.equal((await escalated).to, 'p');
      const crash = await parentCrashed;
      assert.ok(crash.err instanceof TaskCrashedError);
      m.clock.advance(10);
      assert.equal((await rt.ask<TaskRef>(p, 'kid')).id, 'p/kid');
      assert.equal(await rt.ask(kid, { type: 'get' }), 0);
    });
  });

  describe('isolation', () => {
    it('a task crashing over and over, sync or async, never disturbs its siblings or the process', async () => {
      rt = quietRuntime({ supervision: { backoff: { initialMs: 0 }, maxRestarts: Infinity } });
      const asyncCrasher = defineTask<null, string>({
        name: 'async-crasher',
        init: () => null,
        async receive() {
          throw new Error('async failure');
        },
      });
      const a = rt.spawn(counter, { input: 0 });
      const b = rt.spawn(asyncCrasher);
      const c = rt.spawn(counter);
      for (let i = 0; i < 50; i++) {
        rt.send(c, { type: 'crash' });
        rt.send(b, 'x');
        rt.send(a, { type: 'inc' });
      }
      assert.equal(await rt.ask(a, { type: 'get' }), 50);
      await assert.rejects(rt.ask(b, 'x'), TaskCrashedError);
    });
  });

  describe('resource failure', () => {
    it('re-places the tasks of a failed resource from their snapshots, honouring affinity, without spending restarts', async () => {
      rt = quietRuntime({
        devices: [
          simulatedDevice({ kind: 'gpu', id: 'gpu-a' }),
          simulatedDevice({ kind: 'cpu', id: 'cpu-a' }),
          simulatedDevice({ kind: 'gpu', id: 'gpu-b' }),
        ],
        snapshotIntervalMs: Infinity,
      });
      const ref = rt.spawn(counterWith({ supervision: { maxRestarts: 0 }, snapshot: (s) => s, restore: (s) => ({ log: [], n: (s as { n: number }).n + 1000 }) }), {
        id: 'g',
        input: 7,
        affinity: { require: { kinds: ['gpu'] }, prefer: [{ resource: 'gpu-a', weight: 5 }] },
      });
      assert.equal(await rt.ask(ref, { type: 'get' }), 7);
      const replaced = nextEvent(rt, 'task.replaced');
      rt.failResource('gpu-a');
      const e = await replaced;
      assert.deepEqual([e.from, e.to, e.reason, e.fromSnapshot], ['gpu-a', 'gpu-b', 'resource-failed', true]);
      assert.equal(await rt.ask(ref, { type: 'get' }), 1007);
      const info = rt.tasks()[0]!;
      assert.equal(info.restarts, 0);
      assert.equal(info.epoch, 1);
      assert.equal(rt.resources().find((r) => r.id === 'gpu-a')?.status, 'failed');

      const stopped = nextEvent(rt, 'task.stopped');
      rt.failResource('gpu-b');
      const s = await stopped;
      assert.equal(s.reason, 'resource-failed');
      assert.equal((s.err as { code?: string }).code, 'GODWIT_ERR_NO_RESOURCE');
    });

    it('moves a task with its children and keeps messages queued to them', async () => {
      rt = quietRuntime();
      const parent = defineTask<TaskRef, 'kid'>({
        name: 'parent',
        init: (_i, ctx) => ctx.spawnChild(counter, { id: 'kid', input: 3 }),
        receive: (kid, _m, ctx) => (ctx.reply(kid), kid),
      });
      const p = rt.spawn(parent, { id: 'p', affinity: { prefer: [{ kind: 'cpu' }] } });
      const kid = await rt.ask<TaskRef>(p, 'kid');
      assert.equal(await rt.ask(kid, { type: 'get' }), 3);
      rt.failResource('cpu-0');
      rt.send(kid, { type: 'inc' });
      assert.equal(await rt.ask(kid, { type: 'get' }), 4);
      assert.equal((await rt.ask<TaskRef>(p, 'kid')).id, 'p/kid');
      assert.deepEqual(
        rt.tasks().map((t) => [t.id, t.resource, t.path]),
        [
          ['p', 'gpu-0', '/system/resources/gpu-0/task:p'],
          ['p/kid', 'gpu-0', '/system/resources/gpu-0/task:p/task:kid'],
        ],
      );
    });
  });
});
