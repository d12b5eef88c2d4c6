import assert from 'node:assert/strict';
import {
  InvalidArgumentError,
  MigrationInProgressError,
  UnknownTaskError,
  connectDebugSocket,
  createRuntime,
  defineTask,
  simulatedDevice,
  TaskRef,
  type Runtime,
} from '../../src/index.js';
import { counter } from '../fixtures.js';
import { manualRuntime, quietRuntime, recordEvents } from '../helpers.js';
import type { RuntimeImpl } from '../../src/runtime/runtime.js';

const devices = () => [
  simulatedDevice({ kind: 'cpu', id: 'cpu-0' }),
  simulatedDevice({ kind: 'gpu', id: 'gpu-0' }),
  simulatedDevice({ kind: 'gpu', id: 'gpu-1', computeUnits: 1 }),
];

/** Keeps a live function in its state (no codec could carry it) and runs the kernel of where it is. */
const worker = defineTask<{ seen: number[]; live: () => string }, { n: number } | 'where' | 'slow', unknown>({
  name: 'worker',
  kernels: { cpu: () => 'cpu kernel', gpu: () => 'gpu kernel' },
  init: () => ({ seen: [], live: () => 'still the same closure' }),
  async receive(s, msg, ctx) {
    if (msg === 'where') {
      ctx.reply({ kernel: ctx.kernel(null), resource: ctx.resource.id, seen: s.seen, live: s.live() });
      return s;
    }
    if (msg === 'slow') {
      await new Promise((resolve) => setImmediate(resolve));
      s.seen.push(-1);
      return s;
    }
    s.seen.push(msg.n);
    return s;
  },
});

describe('Runtime#migrate (within a node)', () => {
  let rt: Runtime;
  afterEach(async () => rt?.shutdown());

  it('moves a running task with its live state, in order, to the target\'s kernel, and reports every phase', async () => {
    rt = quietRuntime({ devices: devices() });
    const events = recordEvents(rt, ['migration.started', 'migration.committed']);
    const ref = rt.spawn(worker, { id: 'w', affinity: { prefer: [{ kind: 'cpu' }] } });
    for (let i = 0; i < 3; i++) rt.send(ref, { n: i });
    rt.send(ref, 'slow'); // an async turn may be in flight when the freeze comes: it finishes first
    const moving = rt.migrate(ref, { to: 'gpu-0' });
    for (let i = 3; i < 6; i++) rt.send(ref, { n: i }); // arrive during the migration
    const report = await moving;
    assert.equal(report.outcome, 'committed');
    assert.deepEqual([report.task, report.from, report.to, report.bytes], ['w', 'cpu-0', 'gpu-0', 0]);
    assert.deepEqual(
      report.phases.map((p) => p.phase),
      ['propose', 'prepare', 'freeze', 'commit', 'redirect', 'decommission'],
    );
    assert.ok(report.pauseMs >= 0 && report.pauseMs <= report.totalMs);
    const after = (await rt.ask(ref, 'where')) as { kernel: string; resource: string; seen: number[]; live: string };
    assert.deepEqual(after, { kernel: 'gpu kernel', resource: 'gpu-0', seen: [0, 1, 2, -1, 3, 4, 5], live: 'still the same closure' });
    const info = rt.tasks()[0]!;
    assert.deepEqual([info.resource, info.epoch, info.path], ['gpu-0', 1, '/system/resources/gpu-0/task:w']);
    assert.deepEqual(
      events.map((e) => e.type),
      ['migration.started', 'migration.committed'],
    );
    assert.deepEqual(rt.migrations().map((m) => m.id), [report.id]);
  });

  it('picks the best other resource when no target is given', async () => {
    rt = quietRuntime({ devices: devices() });
    const ref = rt.spawn(counter, { input: 4, affinity: { require: { kinds: ['gpu'] }, prefer: [{ resource: 'gpu-1' }] } });
    assert.equal(rt.tasks()[0]?.resource, 'gpu-1');
    const report = await rt.migrate(ref);
    assert.equal(report.to, 'gpu-0');
    assert.equal(await rt.ask(ref, { type: 'get' }), 4);
  });

  it('aborts, leaving the task running untouched, when the target refuses', async () => {
    rt = quietRuntime({ devices: devices() });
    const big = defineTask({ ...counter, name: 'big', demand: { computeUnits: 2 } });
    const ref = rt.spawn(big, { input: 9, affinity: { prefer: [{ kind: 'cpu' }] } });
    const report = await rt.migrate(ref, { to: 'gpu-1' }); // one compute unit only
    assert.equal(report.outcome, 'aborted');
    assert.match(report.reason ?? '', /capacity/);
    assert.equal(rt.tasks()[0]?.resource, 'cpu-0');
    assert.equal(await rt.ask(ref, { type: 'get' }), 9);
    const pinned = rt.spawn(counter, { affinity: { require: { kinds: ['cpu'] } } });
    assert.equal((await rt.migrate(pinned)).outcome, 'aborted');
  });

  it('refuses a second migration of a moving task, an unknown task, and a move to where it is', async () => {
    rt = quietRuntime({ devices: devices() });
    const ref = rt.spawn(worker, { affinity: { prefer: [{ kind: 'cpu' }] } });
    rt.send(ref, 'slow');
    const first = rt.migrate(ref, { to: 'gpu-0' });
    await assert.rejects(rt.migrate(ref, { to: 'gpu-1' }), (err: unknown) => err instanceof MigrationInProgressError && err.code === 'GODWIT_ERR_MIGRATION_IN_PROGRESS');
    assert.equal((await first).outcome, 'committed');
    await assert.rejects(rt.migrate(new TaskRef('ghost', 'worker')), UnknownTaskError);
    await assert.rejects(rt.migrate(ref, { to: 'gpu-0' }), InvalidArgumentError);
  });

  it('moves one child task alone; its parent stays and keeps its ref', async () => {
    rt = quietRuntime({ devices: devices() });
    const parent = defineTask<TaskRef, 'kid'>({
      name: 'parent',
      init: (_i, ctx) => ctx.spawnChild(counter, { id: 'kid', input: 5 }),
      receive: (kid, _m, ctx) => (ctx.reply(kid), kid),
    });
    const p = rt.spawn(parent, { id: 'p', affinity: { prefer: [{ kind: 'cpu' }] } });
    const kid = await rt.ask<TaskRef>(p, 'kid');
    const report = await rt.migrate(kid, { to: 'gpu-0' });
    assert.equal(report.outcome, 'committed');
    assert.deepEqual(
      rt.tasks().map((t) => [t.id, t.resource, t.path]),
      [
        ['p', 'cpu-0', '/system/resources/cpu-0/task:p'],
        ['p/kid', 'gpu-0', '/system/resources/gpu-0/task:kid'],
      ],
    );
    rt.send(kid, { type: 'inc' });
    assert.equal(await rt.ask(kid, { type: 'get' }), 6);
    assert.equal((await rt.ask<TaskRef>(p, 'kid')).id, 'p/kid');
    await rt.stop(p);
    assert.equal(rt.tasks().length, 0, 'the child stops with its parent wherever it runs');
  });

  it('is the admin migrate command of the debug socket, and listed by migrations', async () => {
    rt = createRuntime({ logger: { level: 'silent' }, devices: devices(), debug: { token: 'm', admin: true } });
    await rt.ready;
    const ref = rt.spawn(counter, { id: 'c', input: 1, affinity: { prefer: [{ kind: 'cpu' }] } });
    await rt.ask(ref, { type: 'get' });
    const client = await connectDebugSocket(rt.debugUrl!, { token: 'm' });
    try {
      const report = (await client.request('migrate', { task: 'c', to: 'gpu-0' })) as { outcome?: string; result?: { outcome: string } };
      assert.equal((report.result ?? report).outcome, 'committed');
      const listed = (await client.request('migrations')) as { supported: boolean; migrations: Array<{ task: string }> };
      assert.equal(listed.supported, true);
      assert.deepEqual(listed.migrations.map((m) => m.task), ['c']);
    } finally {
      await client.close();
    }
  });
});

describe('TaskCell#freeze while a migration here still holds messages back', () => {
  const list = defineTask<number[], number | 'get', unknown>({
    name: 'held-list',
    init: () => [],
    receive(s, n, ctx) {
      if (n === 'get') ctx.reply(s);
      else s.push(n);
      return s;
    },
  });

  it('waits for the hold to end, and a drain takes the held messages after the mailbox', async () => {
    const rt = quietRuntime({ tasks: [list] });
    try {
      const impl = rt as unknown as RuntimeImpl;
      const ref = rt.spawn(list, { id: 'h' });
      assert.deepEqual(await rt.ask(ref, 'get'), []);
      const cell = impl.directory.get('h')!;
      cell.held = []; // as a migration's target does until the source has forwarded its queue
      rt.send(ref, 1);
      rt.send(ref, 2);
      let frozen = false;
      const freezing = cell.freeze().then(() => (frozen = true));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(frozen, false, 'not while it holds');
      assert.deepEqual(cell.takeHeld().map((q) => q.msg), [1, 2]);
      await freezing;
      rt.send(ref, 3);
      cell.held = [];
      rt.send(ref, 4);
      assert.deepEqual(cell.drainAll().map((q) => q.msg), [3, 4], 'mailbox first, then what is held');
      assert.equal(cell.held, undefined);
    } finally {
      await rt.shutdown();
    }
  });
});

describe('periodic snapshots of a large state', () => {
  const heavy = defineTask<{ data: Uint8Array; hits: number }, 'hit', number, number>({
    name: 'heavy',
    init: (bytes) => ({ data: new Uint8Array(bytes), hits: 0 }),
    receive(s, _msg, ctx) {
      ctx.reply(s.hits + 1);
      return { data: s.data, hits: s.hits + 1 };
    },
  });

  it('are spaced by SNAPSHOT_SPACING times what the last one took; a small state follows snapshotIntervalMs exactly', async () => {
    const { rt, clock } = manualRuntime({ tasks: [heavy], snapshotIntervalMs: 1 });
    try {
      const impl = rt as unknown as RuntimeImpl;
      const big = rt.spawn(heavy, { id: 'big', input: 8 * 2 ** 20 });
      const small = rt.spawn(heavy, { id: 'small', input: 16 });
      const snapshotOf = (id: string) => impl.directory.get(id)!.snapshot;
      const turn = () => Promise.all([rt.ask(big, 'hit'), rt.ask(small, 'hit')]);
      await turn();
      const [big0, small0] = [snapshotOf('big'), snapshotOf('small')];
      clock.advance(1);
      await turn();
      assert.notEqual(snapshotOf('small'), small0, 'the small state: every snapshotIntervalMs');
      assert.equal(snapshotOf('big'), big0, 'the large one waits out ten times its snapshot time (an 8 MiB copy takes well over 0.1 ms)');
      clock.advance(10_000);
      await turn();
      assert.notEqual(snapshotOf('big'), big0);
    } finally {
      await rt.shutdown();
    }
  });
});
