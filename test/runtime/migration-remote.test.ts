import assert from 'node:assert/strict';
import { PartitionedState, createRuntime, defineTask, simulatedDevice, type Runtime, type TaskRef } from '../../src/index.js';
import { counter } from '../fixtures.js';
import { nextEvent, until } from '../helpers.js';
import type { RuntimeImpl } from '../../src/runtime/runtime.js';

const SECRET = 'migration-test-secret';
const unknownHere = defineTask({ ...counter, name: 'only-on-a' });

describe('Runtime#migrate across nodes', function () {
  this.timeout(20_000);
  let rms: Runtime;
  let a: Runtime;
  let b: Runtime;

  before(async () => {
    const common = { auth: { secret: SECRET }, logger: { level: 'silent' as const }, heartbeatIntervalMs: 50 };
    rms = createRuntime({ ...common, name: 'rms', rms: true, devices: [], tasks: [counter] });
    await rms.ready;
    a = createRuntime({ ...common, name: 'a', join: rms.url!, devices: [simulatedDevice({ kind: 'gpu', id: 'a/gpu-0' })], tasks: [counter, unknownHere] });
    b = createRuntime({ ...common, name: 'b', join: rms.url!, devices: [simulatedDevice({ kind: 'fpga', id: 'b/fpga-0' })], tasks: [counter] });
    await Promise.all([a.ready, b.ready]);
    await until([rms, a, b], () => [rms, a, b].every((n) => n.nodes().length === 3));
  });

  after(async () => {
    await Promise.all([a.shutdown(), b.shutdown()]);
    await rms.shutdown();
  });

  it('moves a task with its state to another node; messages sent before, during and after arrive once, in order', async () => {
    const ref = rms.spawn(counter, { id: 'traveller', input: 5, affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
    for (let i = 0; i < 200; i++) rms.send(ref, { type: 'log', value: i });
    assert.equal(await rms.ask(ref, { type: 'get' }), 5);
    assert.deepEqual(a.tasks().map((t) => t.id), ['traveller']);
    const moving = a.migrate(a.tasks()[0]!.ref, { to: 'b/fpga-0' });
    for (let i = 200; i < 400; i++) rms.send(ref, { type: 'log', value: i });
    const report = await moving;
    assert.equal(report.outcome, 'committed', report.reason);
    assert.deepEqual([report.from, report.to, report.node], ['a/gpu-0', 'b/fpga-0', 'b']);
    assert.ok(report.bytes > 0);
    assert.deepEqual(
      report.phases.map((p) => p.phase),
      ['propose', 'prepare', 'freeze', 'commit', 'redirect', 'decommission'],
    );
    for (let i = 400; i < 500; i++) rms.send(ref, { type: 'log', value: i });
    assert.deepEqual(await rms.ask(ref, { type: 'dump' }), Array.from({ length: 500 }, (_, i) => i));
    assert.equal(await rms.ask(ref, { type: 'get' }), 5, 'state carried over');
    assert.deepEqual(a.tasks(), []);
    assert.deepEqual(b.tasks().map((t) => [t.id, t.resource, t.epoch]), [['traveller', 'b/fpga-0', 1]]);
  });

  it('pre-copies: streams the state while the task serves, then replays what it handled, without answering twice', async () => {
    const big = defineTask<{ log: number[]; ballast: Float64Array }, { type: "log"; value: number } | { type: "dump" }, unknown>({
      name: 'big-logger',
      init: () => ({ log: [], ballast: new Float64Array(512 * 1024) }), // 4 MiB: four chunks
      receive(s, msg, ctx) {
        if (msg.type === 'dump') ctx.reply(s.log);
        else {
          s.log.push(msg.value);
          ctx.reply(s.log.length);
        }
        return s;
      },
    });
    for (const n of [rms, a, b]) n.register(big as never);
    const ref = a.spawn(big, { id: 'precopied', affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
    const answers: Array<Promise<number>> = [];
    for (let i = 0; i < 100; i++) answers.push(rms.ask<number>(ref, { type: 'log', value: i }));
    await Promise.all(answers);
    const moving = a.migrate(ref, { to: 'b/fpga-0', mode: 'pre-copy', maxFinalMessages: 0 });
    for (let i = 100; i < 400; i++) answers.push(rms.ask<number>(ref, { type: 'log', value: i }));
    const report = await moving;
    assert.equal(report.outcome, 'committed', report.reason);
    assert.ok(report.bytes > 4 * 2 ** 20);
    assert.deepEqual(await Promise.all(answers), Array.from({ length: 400 }, (_, i) => i + 1), 'each ask answered once, in order');
    assert.deepEqual(await rms.ask(ref, { type: 'dump' }), Array.from({ length: 400 }, (_, i) => i));
    assert.deepEqual(b.tasks().filter((t) => t.id === 'precopied').map((t) => t.epoch), [1]);
  });

  it('pre-copies a PartitionedState by deltas of its changed partitions: a receive that is not deterministic moves exactly', async () => {
    type Msg = { op: 'roll'; key: string } | { op: 'get'; key: string };
    // Each roll stores a fresh random number and answers it: a replayed log would roll others.
    const dice = defineTask<PartitionedState<number | Uint8Array>, Msg, unknown>({
      name: 'dice',
      init: () => new PartitionedState<number | Uint8Array>({ partitionCount: 16 }).set('ballast', new Uint8Array(4 * 2 ** 20)),
      snapshot: (st) => st.fullSnapshot(),
      restore: (snap) => PartitionedState.fromSnapshot<number | Uint8Array>(snap),
      receive(st, msg, ctx) {
        if (msg.op === 'roll') {
          const value = Math.random();
          st.set(msg.key, value);
          ctx.reply(value);
        } else ctx.reply(st.get(msg.key) ?? null);
        return st;
      },
    });
    for (const n of [rms, a, b]) n.register(dice as never);
    const ref = a.spawn(dice, { id: 'dice-1', affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
    const rolled: Array<Promise<number>> = [];
    for (let i = 0; i < 50; i++) rolled.push(rms.ask<number>(ref, { op: 'roll', key: `k${i}` }));
    await Promise.all(rolled);
    let settled = false;
    const moving = a.migrate(ref, { to: 'b/fpga-0', mode: 'pre-copy', maxFinalMessages: 0 }).finally(() => (settled = true));
    // Rolls keep coming while the state streams, so some are handled at the source after its snapshot.
    const keys: string[] = Array.from({ length: 50 }, (_, i) => `k${i}`);
    for (let i = 50; !settled; i++) {
      keys.push(`k${i % 200}`);
      rolled.push(rms.ask<number>(ref, { op: 'roll', key: `k${i % 200}` }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const report = await moving;
    assert.equal(report.outcome, 'committed', report.reason);
    assert.equal(report.preCopy, 'partitions');
    assert.ok(keys.length > 60, `${keys.length - 50} rolls during the move`);
    const answers = await Promise.all(rolled);
    // The last roll of each key is what the task holds there now.
    const last = new Map<string, number>();
    answers.forEach((v, i) => last.set(keys[i]!, v));
    for (const [key, value] of last) assert.equal(await rms.ask(ref, { op: 'get', key }), value, key);
    assert.deepEqual(b.tasks().filter((t) => t.id === 'dice-1').map((t) => t.resource), ['b/fpga-0']);
  });

  it('moves a task with its children across nodes; the family answers there with its state', async () => {
    const family = defineTask<TaskRef[], 'kids', TaskRef[]>({
      name: 'family',
      init: (_i, ctx) => ['x', 'y'].map((id) => ctx.spawnChild(counter, { id, input: 10 })),
      receive: (kids, _m, ctx) => (ctx.reply(kids), kids),
    });
    for (const n of [rms, a, b]) n.register(family as never);
    const parent = a.spawn(family, { id: 'fam', affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
    const kids = await rms.ask<TaskRef[]>(parent, 'kids');
    rms.send(kids[0]!, { type: 'inc' });
    assert.equal(await rms.ask(kids[0]!, { type: 'get' }), 11);
    const report = await a.migrate(parent, { to: 'b/fpga-0', mode: 'pre-copy' });
    assert.equal(report.outcome, 'committed', report.reason);
    rms.send(kids[1]!, { type: 'inc', by: 5 });
    assert.deepEqual([await rms.ask(kids[0]!, { type: 'get' }), await rms.ask(kids[1]!, { type: 'get' })], [11, 15]);
    assert.deepEqual((await rms.ask<TaskRef[]>(parent, 'kids')).map((k) => k.id), ['fam/x', 'fam/y']);
    assert.deepEqual(
      b.tasks().filter((t) => t.id.startsWith('fam')).map((t) => [t.id, t.parent ?? null, t.resource]),
      [
        ['fam', null, 'b/fpga-0'],
        ['fam/x', 'fam', 'b/fpga-0'],
        ['fam/y', 'fam', 'b/fpga-0'],
      ],
    );
    assert.deepEqual(a.tasks().filter((t) => t.id.startsWith('fam')), []);
  });

  it('moves a child alone to another node: state and refs carry over, and its parent keeps supervising it there', async () => {
    const parentDef = defineTask<null, 'kids', TaskRef[]>({
      name: 'lone-parent',
      init: (_i, ctx) => (ctx.spawnChild(counter, { id: 'kid', input: 3 }), null),
      receive(s, msg, ctx) {
        if (msg === 'kids') ctx.reply(ctx.children());
        return s;
      },
    });
    for (const n of [rms, a, b]) n.register(parentDef as never);
    const parent = a.spawn(parentDef, { id: 'lp', affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
    const [kid] = await rms.ask<TaskRef[]>(parent, 'kids');
    rms.send(kid!, { type: 'inc' });
    assert.equal(await rms.ask(kid!, { type: 'get' }), 4);
    const report = await a.migrate(kid!, { to: 'b/fpga-0' });
    assert.equal(report.outcome, 'committed', report.reason);
    assert.equal(await rms.ask(kid!, { type: 'get' }), 4, 'state and ref carried over');
    assert.deepEqual(b.tasks().filter((t) => t.id === 'lp/kid').map((t) => [t.parent ?? null, t.resource]), [['lp', 'b/fpga-0']]);
    assert.deepEqual((await rms.ask<TaskRef[]>(parent, 'kids')).map((k) => k.id), ['lp/kid'], 'its parent still lists it');
    // A crash of the moved child goes to its parent's supervision on a; the restart happens on b.
    const crashedOnA = nextEvent(a, 'task.crashed', (e) => e.taskId === 'lp/kid');
    const restarted = nextEvent(b, 'task.restarted', (e) => e.taskId === 'lp/kid');
    rms.send(kid!, { type: 'crash' });
    assert.equal((await crashedOnA).directive, 'restart');
    await restarted;
    assert.equal(await rms.ask(kid!, { type: 'get' }), 3, 'restarted on b from its spawn input, which moved with it');
    assert.deepEqual(b.tasks().filter((t) => t.id === 'lp/kid').map((t) => [t.parent ?? null, t.resource]), [['lp', 'b/fpga-0']]);
    // Stopping the parent stops the moved child on b.
    const stopped = nextEvent(b, 'task.stopped', (e) => e.taskId === 'lp/kid');
    await a.stop(parent);
    assert.equal((await stopped).reason, 'parent-stopped');
    assert.deepEqual(b.tasks().filter((t) => t.id === 'lp/kid'), []);
  });

  it('escalates a moved child\'s crash to its parent on the source node, and ctx.stopChild reaches it there', async () => {
    const fragile = defineTask({ ...counter, name: 'fragile-kid', supervision: { directive: 'escalate' } });
    const parentDef = defineTask<null, 'kids' | 'stop-kid', TaskRef[]>({
      name: 'escalating-parent',
      init: (_i, ctx) => (ctx.spawnChild(fragile, { id: 'kid', input: 1 }), ctx.spawnChild(counter, { id: 'other', input: 2 }), null),
      receive(s, msg, ctx) {
        if (msg === 'kids') ctx.reply(ctx.children());
        else for (const k of ctx.children()) if (k.id.endsWith('/other')) ctx.stopChild(k);
        return s;
      },
    });
    for (const n of [rms, a, b]) for (const d of [fragile, parentDef]) n.register(d as never);
    const parent = a.spawn(parentDef, { id: 'ep', affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
    const kids = await rms.ask<TaskRef[]>(parent, 'kids');
    for (const k of kids) assert.equal((await a.migrate(k, { to: 'b/fpga-0' })).outcome, 'committed');
    // ctx.stopChild of a child on another node stops it there.
    const otherStopped = nextEvent(b, 'task.stopped', (e) => e.taskId === 'ep/other');
    rms.send(parent, 'stop-kid');
    assert.equal((await otherStopped).reason, 'parent-stopped');
    assert.deepEqual((await rms.ask<TaskRef[]>(parent, 'kids')).map((k) => k.id), ['ep/kid']);
    // The child's directive is escalate: it stops on b (failed) and its parent crashes on a.
    const kidStopped = nextEvent(b, 'task.stopped', (e) => e.taskId === 'ep/kid');
    const parentCrashed = nextEvent(a, 'task.crashed', (e) => e.taskId === 'ep');
    rms.send(kids[0]!, { type: 'crash' });
    assert.equal((await kidStopped).reason, 'failed');
    assert.equal((await parentCrashed).directive, 'restart');
    // The parent restarted on a: its init spawned fresh children there.
    assert.deepEqual((await rms.ask<TaskRef[]>(parent, 'kids')).map((k) => k.id).sort(), ['ep/kid', 'ep/other']);
    assert.deepEqual(a.tasks().filter((t) => t.id.startsWith('ep/')).map((t) => t.resource), ['a/gpu-0', 'a/gpu-0']);
    await a.stop(parent);
  });

  it('all-for-one reaches across nodes: a crash of a moved child restarts its siblings here and there, and so does a crash of a local one', async () => {
    const parentDef = defineTask<null, 'kids', TaskRef[]>({
      name: 'afo-parent',
      supervision: { strategy: 'all-for-one' },
      init: (_i, ctx) => (['k1', 'k2', 'k3'].forEach((id, i) => ctx.spawnChild(counter, { id, input: 10 * (i + 1) })), null),
      receive(s, msg, ctx) {
        if (msg === 'kids') ctx.reply(ctx.children());
        return s;
      },
    });
    for (const n of [rms, a, b]) n.register(parentDef as never);
    const parent = a.spawn(parentDef, { id: 'afo', affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
    const kids = await rms.ask<TaskRef[]>(parent, 'kids');
    const [k1, k2, k3] = ['afo/k1', 'afo/k2', 'afo/k3'].map((id) => kids.find((k) => k.id === id)!);
    for (const k of [k1!, k2!]) assert.equal((await a.migrate(k, { to: 'b/fpga-0' })).outcome, 'committed');
    const bump = async () => {
      for (const k of [k1!, k2!, k3!]) rms.send(k, { type: 'inc' });
      return Promise.all([k1!, k2!, k3!].map((k) => rms.ask<number>(k, { type: 'get' })));
    };
    assert.deepEqual(await bump(), [11, 21, 31]);
    // A moved child crashes: its parent's side (on a) restarts the local sibling and the other moved one (on b).
    let restarts = [nextEvent(b, 'task.restarted', (e) => e.taskId === 'afo/k1'), nextEvent(b, 'task.restarted', (e) => e.taskId === 'afo/k2'), nextEvent(a, 'task.restarted', (e) => e.taskId === 'afo/k3')];
    rms.send(k1!, { type: 'crash' });
    await Promise.all(restarts);
    assert.deepEqual(await Promise.all([k1!, k2!, k3!].map((k) => rms.ask<number>(k, { type: 'get' }))), [10, 20, 30], 'all three back to their spawn input');
    assert.deepEqual(await bump(), [11, 21, 31]);
    // The local child crashes: the moved ones restart on b.
    restarts = [nextEvent(b, 'task.restarted', (e) => e.taskId === 'afo/k1'), nextEvent(b, 'task.restarted', (e) => e.taskId === 'afo/k2'), nextEvent(a, 'task.restarted', (e) => e.taskId === 'afo/k3')];
    rms.send(k3!, { type: 'crash' });
    await Promise.all(restarts);
    assert.deepEqual(await Promise.all([k1!, k2!, k3!].map((k) => rms.ask<number>(k, { type: 'get' }))), [10, 20, 30]);
    assert.deepEqual(b.tasks().filter((t) => t.id.startsWith('afo/')).map((t) => t.id).sort(), ['afo/k1', 'afo/k2'], 'the moved children restarted where they run');
    await a.stop(parent);
  });

  it('measures a task\'s handler time per device kind, and the measurement moves with it (its predicted performance elsewhere)', async () => {
    const declared = defineTask({ ...counter, name: 'costed', demand: { msPerMessage: { gpu: 9, fpga: 3 } } });
    for (const n of [rms, a, b]) n.register(declared as never);
    const ref = a.spawn(declared, { id: 'costed-1', affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
    assert.deepEqual(a.tasks().find((t) => t.id === 'costed-1')?.costMsByKind, { gpu: 9, fpga: 3 }, 'declared until measured');
    for (let i = 0; i < 20; i++) a.send(ref, { type: 'inc' });
    assert.equal(await a.ask(ref, { type: 'get' }), 20);
    const measured = a.tasks().find((t) => t.id === 'costed-1')?.costMsByKind;
    assert.ok(measured && measured['gpu']! < 9 && measured['gpu']! >= 0 && measured['fpga'] === 3, JSON.stringify(measured));
    assert.equal((await a.migrate(ref, { to: 'b/fpga-0' })).outcome, 'committed');
    assert.deepEqual(b.tasks().find((t) => t.id === 'costed-1')?.costMsByKind, measured, 'the gpu measurement came along; fpga is still declared');
    await b.stop(ref);
  });

  it('keeps the order of a sender on the target node, whose earlier sends are still on their way to the source', async () => {
    for (const mode of ['stop-and-copy', 'pre-copy'] as const) {
      const id = `homecoming-${mode}`;
      const ref = a.spawn(counter, { id, affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
      assert.equal(await b.ask(ref, { type: 'get' }), 0);
      let sent = 0;
      let done = false;
      const moving = a.migrate(ref, { to: 'b/fpga-0', mode }).finally(() => (done = true));
      // b streams to the task across the move: sends before b takes over travel to a and back.
      while (!done) {
        for (let k = 0; k < 20; k++) b.send(ref, { type: 'log', value: sent++ });
        await new Promise((resolve) => setImmediate(resolve));
      }
      for (let k = 0; k < 20; k++) b.send(ref, { type: 'log', value: sent++ });
      assert.equal((await moving).outcome, 'committed');
      assert.deepEqual(await b.ask(ref, { type: 'dump' }), Array.from({ length: sent }, (_, i) => i), `${mode}: every message once, in order`);
    }
  });

  it('stamps a send to a task that just arrived here while this node\'s earlier sends to it are still on their way, so it waits behind them', async () => {
    const ref = a.spawn(counter, { id: 'arrival', affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
    for (let i = 0; i < 5; i++) b.send(ref, { type: 'log', value: i });
    assert.deepEqual(await b.ask(ref, { type: 'dump' }), [0, 1, 2, 3, 4]);
    assert.equal((await a.migrate(ref, { to: 'b/fpga-0' })).outcome, 'committed');
    const impl = b as unknown as RuntimeImpl;
    const replay = impl.cluster!.replay!;
    const cell = impl.directory.get('arrival')!;
    assert.equal(cell.applied.get('b'), 5);
    // A send of b's, stamped while the task was on a, that has not come back yet:
    const late = replay.stamp('arrival', { type: 'log', value: 5 });
    b.send(ref, { type: 'log', value: 6 });
    assert.equal(replay.lastSeq('arrival'), 7, 'the local send was stamped behind it');
    assert.deepEqual(await b.ask(ref, { type: 'dump' }), [0, 1, 2, 3, 4], 'and waits for it');
    impl.deliver(cell, late.msg, undefined, { origin: 'b', seq: late.seq });
    assert.deepEqual(await b.ask(ref, { type: 'dump' }), [0, 1, 2, 3, 4, 5, 6]);
    b.send(ref, { type: 'log', value: 7 });
    assert.deepEqual(await b.ask(ref, { type: 'dump' }), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(replay.lastSeq('arrival'), 7, 'with nothing on its way, a local send is not stamped');
    await b.stop(ref);
  });

  it('orders a send behind this node\'s first sends to a task that arrives here before any of them reached it', async () => {
    const ref = a.spawn(counter, { id: 'early-arrival', affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
    assert.equal(await a.ask(ref, { type: 'get' }), 0);
    const impl = b as unknown as RuntimeImpl;
    const replay = impl.cluster!.replay!;
    // b's first send to the task, stamped while the task was on a, still on its way:
    const first = replay.stamp('early-arrival', { type: 'log', value: 0 });
    assert.equal((await a.migrate(ref, { to: 'b/fpga-0' })).outcome, 'committed');
    const cell = impl.directory.get('early-arrival')!;
    b.send(ref, { type: 'log', value: 1 });
    assert.deepEqual(await b.ask(ref, { type: 'dump' }), [], 'the local send waits for the first');
    impl.deliver(cell, first.msg, undefined, { origin: 'b', seq: first.seq });
    assert.deepEqual(await b.ask(ref, { type: 'dump' }), [0, 1]);
    await b.stop(ref);
  });

  it('moves a task on while it still holds messages back from the move that brought it: they go along, in order', async () => {
    const ref = a.spawn(counter, { id: 'hurried', affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
    assert.equal(await b.ask(ref, { type: 'get' }), 0);
    // b takes the task over but hears late that a has forwarded its queue: it holds what b sends meanwhile.
    const receiver = (b as unknown as { migrationReceiver: { redirected(key: string): void } }).migrationReceiver;
    const redirected = receiver.redirected.bind(receiver);
    const late: string[] = [];
    receiver.redirected = (key) => void late.push(key);
    try {
      assert.equal((await a.migrate(ref, { to: 'b/fpga-0' })).outcome, 'committed');
      for (let i = 0; i < 5; i++) b.send(ref, { type: 'log', value: i });
      const cell = (b as unknown as RuntimeImpl).directory.get('hurried')!;
      assert.equal(cell.held?.length, 5, 'held back');
      const freeze = cell.freeze.bind(cell);
      const freezing = new Promise<void>((resolve) => (cell.freeze = () => (resolve(), freeze())));
      const onward = b.migrate(ref, { to: 'a/gpu-0' });
      await freezing;
      assert.equal(late.length, 1);
      redirected(late[0]!); // the hold ends: the freeze, and the move, go on
      assert.equal((await onward).outcome, 'committed');
    } finally {
      receiver.redirected = redirected;
    }
    assert.deepEqual(await a.ask(ref, { type: 'dump' }), [0, 1, 2, 3, 4]);
    await a.stop(ref);
  });

  it('is started from the RMS for a task another node hosts', async () => {
    const ref: TaskRef = rms.spawn(counter, { id: 'remote-controlled', input: 1, affinity: { prefer: [{ resource: 'b/fpga-0', weight: 10 }] } });
    rms.send(ref, { type: 'inc' });
    assert.equal(await rms.ask(ref, { type: 'get' }), 2);
    const report = await rms.migrate(ref, { to: 'a/gpu-0' });
    assert.equal(report.outcome, 'committed', report.reason);
    assert.equal(await rms.ask(ref, { type: 'get' }), 2);
    assert.ok(a.tasks().some((t) => t.id === 'remote-controlled'));
  });

  it('drains a resource onto another node when its own node has no other resource', async () => {
    const ref = rms.spawn(counter, { id: 'drained', input: 4, affinity: { prefer: [{ resource: 'a/gpu-0', weight: 10 }] } });
    assert.equal(await rms.ask(ref, { type: 'get' }), 4);
    const { moved, migrations } = await a.drainResource('a/gpu-0');
    assert.ok(moved >= 1);
    assert.ok(migrations.every((m) => m.outcome === 'committed' && m.node === 'b'));
    assert.equal(await rms.ask(ref, { type: 'get' }), 4);
    assert.deepEqual(a.tasks(), []);
    a.undrainResource('a/gpu-0');
  });

  it('aborts when the target node goes away before commit, or the task\'s hard affinity rules the target out', async () => {
    const secret = 'doomed-target-secret';
    const common = { auth: { secret }, logger: { level: 'silent' as const }, heartbeatIntervalMs: 50 };
    const r = createRuntime({ ...common, name: 'r', rms: true, devices: [], tasks: [counter] });
    await r.ready;
    const src = createRuntime({ ...common, name: 's', join: r.url!, devices: [simulatedDevice({ kind: 'cpu', id: 's/cpu-0' })], tasks: [counter] });
    const dst = createRuntime({ ...common, name: 't', join: r.url!, devices: [simulatedDevice({ kind: 'cpu', id: 't/cpu-0' })], tasks: [counter] });
    try {
      await Promise.all([src.ready, dst.ready]);
      await until([r, src, dst], () => src.nodes().length === 3);
      const pinned = src.spawn(counter, { id: 'pinned', affinity: { require: { resources: ['s/cpu-0'] } } });
      const refused = await src.migrate(pinned, { to: 't/cpu-0' });
      assert.equal(refused.outcome, 'aborted');
      assert.match(refused.reason ?? '', /require\.resources/);
      const ref = src.spawn(counter, { id: 'steady', input: 1, affinity: { prefer: [{ resource: 's/cpu-0', weight: 10 }] } });
      assert.equal(await src.ask(ref, { type: 'get' }), 1);
      const moving = src.migrate(ref, { to: 't/cpu-0' });
      await dst.shutdown();
      const report = await moving;
      assert.equal(report.outcome, 'aborted');
      src.send(ref, { type: 'inc' });
      assert.equal(await src.ask(ref, { type: 'get' }), 2);
      assert.equal(src.tasks()[0]?.resource, 's/cpu-0');
    } finally {
      await Promise.all([src.shutdown(), dst.shutdown()]);
      await r.shutdown();
    }
  });

  it('aborts when the link to the target breaks mid-transfer; the task goes on, and a later move succeeds', async () => {
    const heavy = defineTask<{ n: number; ballast: Uint8Array }, 'inc' | 'get', number>({
      name: 'heavy',
      init: () => ({ n: 0, ballast: new Uint8Array(8 * 2 ** 20) }), // eight chunks
      receive(s, msg, ctx) {
        if (msg === 'get') ctx.reply(s.n);
        else s.n++;
        return s;
      },
    });
    for (const n of [rms, a, b]) n.register(heavy as never);
    const ref = a.spawn(heavy, { id: 'heavy', affinity: { prefer: [{ resource: 'a/gpu-0', weight: 100 }] } });
    a.send(ref, 'inc');
    assert.equal(await a.ask(ref, 'get'), 1);
    const moving = a.migrate(ref, { to: 'b/fpga-0' });
    // Break the a-b link once the transfer has started (the first chunk is in flight).
    const internals = a as unknown as { cluster: { links: Map<string, { close(code: number, reason: string): void }> } };
    await new Promise((resolve) => setImmediate(resolve));
    internals.cluster.links.get('b')?.close(4400, 'test: link cut');
    const report = await moving;
    assert.equal(report.outcome, 'aborted');
    assert.match(report.reason ?? '', /node b is unreachable/);
    a.send(ref, 'inc');
    assert.equal(await a.ask(ref, 'get'), 2);
    assert.equal(a.tasks().find((t) => t.id === 'heavy')?.resource, 'a/gpu-0');
    const again = await a.migrate(ref, { to: 'b/fpga-0' });
    assert.equal(again.outcome, 'committed', again.reason);
    assert.equal(await rms.ask(ref, 'get'), 2);
  });

  it('aborts when the target node does not know the task, and the task goes on where it was', async () => {
    const ref = a.spawn(unknownHere, { id: 'stay', input: 9 });
    a.send(ref, { type: 'inc' });
    const report = await a.migrate(ref, { to: 'b/fpga-0' });
    assert.equal(report.outcome, 'aborted');
    assert.match(report.reason ?? '', /no task definition named only-on-a/);
    assert.equal(await a.ask(ref, { type: 'get' }), 10);
    assert.equal(a.tasks().find((t) => t.id === 'stay')?.resource, 'a/gpu-0');
  });
});
