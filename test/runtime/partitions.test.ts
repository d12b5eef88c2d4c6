import assert from 'node:assert/strict';
import { PartitionedState, createRuntime, defineTask, simulatedDevice, type Runtime } from '../../src/index.js';
import { quietRuntime, until } from '../helpers.js';

type KvMsg = { op: 'put'; key: string; value: number } | { op: 'get'; key: string } | { op: 'size' };

/** A key-value store over a PartitionedState: puts and gets route by key, `size` stays with the task. */
const kv = defineTask<PartitionedState<number>, KvMsg, unknown>({
  name: 'kv',
  partitionKey: (msg) => (msg.op === 'size' ? undefined : msg.key),
  init: () => new PartitionedState<number>({ partitionCount: 16 }),
  snapshot: (s) => s.fullSnapshot(),
  restore: (snap) => PartitionedState.fromSnapshot<number>(snap),
  receive(s, msg, ctx) {
    if (msg.op === 'put') s.set(msg.key, msg.value);
    else if (msg.op === 'get') ctx.reply(s.get(msg.key) ?? null);
    else ctx.reply(s.size);
    return s;
  },
});

describe('Runtime#migrate with partitions (within a node)', function () {
  let rt: Runtime;
  afterEach(async () => rt?.shutdown());

  it('moves some partitions to another resource, routes their keys there, and merges them back', async () => {
    rt = quietRuntime();
    const ref = rt.spawn(kv, { id: 'kv', affinity: { prefer: [{ kind: 'cpu' }] } });
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    for (const [i, key] of keys.entries()) rt.send(ref, { op: 'put', key, value: i });
    assert.equal(await rt.ask(ref, { op: 'size' }), 200);

    const moved = [0, 1, 2, 3, 4, 5, 6, 7];
    for (const [i, key] of keys.entries()) rt.send(ref, { op: 'put', key, value: i + 1 }); // still queued when the split starts
    const split = await rt.migrate(ref, { partitions: moved, to: 'gpu-0' });
    for (const [i, key] of keys.entries()) assert.equal(await rt.ask(ref, { op: 'get', key }), i + 1, 'queued writes kept, in order');
    assert.equal(split.outcome, 'committed');
    assert.equal(split.granularity, 'partitions');
    const group = rt.tasks().find((t) => t.id.startsWith('kv/partitions-'))!;
    assert.deepEqual([group.resource, group.parent], ['gpu-0', 'kv']);
    const onGroup = (await rt.ask<number>(ref, { op: 'size' })) as number;
    assert.ok(onGroup > 0 && onGroup < 200, `the task keeps ${onGroup} keys`);

    // Every key still answers, wherever its partition lives; writes to moved keys land in the group.
    for (const [i, key] of keys.entries()) rt.send(ref, { op: 'put', key, value: i * 10 });
    for (const [i, key] of keys.entries()) assert.equal(await rt.ask(ref, { op: 'get', key }), i * 10);
    assert.ok((rt.tasks().find((t) => t.id === group.id)?.processed ?? 0) > 0);

    const merge = await rt.migrate(group.ref, { merge: true });
    assert.equal(merge.outcome, 'committed');
    assert.equal(await rt.ask(ref, { op: 'size' }), 200);
    assert.equal(await rt.ask(ref, { op: 'get', key: 'k7' }), 70);
    assert.deepEqual(rt.tasks().map((t) => t.id), ['kv']);
  });

  it('refuses a task that is not partitioned, and partitions it does not hold', async () => {
    rt = quietRuntime();
    const plain = rt.spawn(defineTask({ name: 'plain', init: () => 0, receive: (n: number) => n }));
    await assert.rejects(rt.migrate(plain, { partitions: [0], to: 'gpu-0' }), { code: 'GODWIT_ERR_INVALID_ARGUMENT' });
    const ref = rt.spawn(kv, { id: 'kv2' });
    await rt.ask(ref, { op: 'size' });
    await assert.rejects(rt.migrate(ref, { partitions: [99], to: 'gpu-0' }), { code: 'GODWIT_ERR_INVALID_ARGUMENT' });
  });
});

describe('Runtime#migrate with partitions (across nodes)', function () {
  this.timeout(20_000);
  const common = { auth: { secret: 'partitions-test-secret' }, logger: { level: 'silent' as const }, heartbeatIntervalMs: 50 };
  let rms: Runtime;
  let a: Runtime;
  let b: Runtime;

  before(async () => {
    rms = createRuntime({ ...common, name: 'rms', rms: true, devices: [], tasks: [kv] });
    await rms.ready;
    a = createRuntime({ ...common, name: 'a', join: rms.url!, devices: [simulatedDevice({ kind: 'cpu', id: 'a/cpu-0' })], tasks: [kv] });
    b = createRuntime({ ...common, name: 'b', join: rms.url!, devices: [simulatedDevice({ kind: 'gpu', id: 'b/gpu-0' })], tasks: [kv] });
    await Promise.all([a.ready, b.ready]);
    await until([rms, a, b], () => [rms, a, b].every((n) => n.nodes().length === 3));
  });

  after(async () => {
    await Promise.all([a.shutdown(), b.shutdown()]);
    await rms.shutdown();
  });

  it('moves some partitions to a resource of another node, routes their keys there through the cluster, and merges them back', async () => {
    const ref = a.spawn(kv, { id: 'kv-x' });
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    for (const [i, key] of keys.entries()) rms.send(ref, { op: 'put', key, value: i });
    assert.equal(await rms.ask(ref, { op: 'size' }), 200);
    for (const [i, key] of keys.entries()) a.send(ref, { op: 'put', key, value: i + 1 }); // still queued when the split starts
    const split = await a.migrate(ref, { partitions: [0, 1, 2, 3, 4, 5, 6, 7], to: 'b/gpu-0' });
    assert.equal(split.outcome, 'committed', split.reason);
    assert.equal(split.granularity, 'partitions');
    assert.equal(split.node, 'b');
    assert.equal(split.preCopy, 'partitions', 'the group pre-copies by deltas, serving its keys meanwhile');
    const group = b.tasks().find((t) => t.id.startsWith('kv-x/partitions-'))!;
    assert.deepEqual([group.resource, group.parent], ['b/gpu-0', 'kv-x']);
    assert.deepEqual(a.tasks().map((t) => t.id), ['kv-x']);
    for (const [i, key] of keys.entries()) assert.equal(await rms.ask(ref, { op: 'get', key }), i + 1, 'queued writes kept, in order');
    const kept = await a.ask<number>(ref, { op: 'size' });
    assert.ok(kept > 0 && kept < 200, `the task keeps ${kept} keys`);

    // From any node, every key answers wherever its partition lives; writes to moved keys land on b.
    for (const [i, key] of keys.entries()) b.send(ref, { op: 'put', key, value: i * 10 });
    for (const [i, key] of keys.entries()) assert.equal(await b.ask(ref, { op: 'get', key }), i * 10);
    assert.ok((b.tasks().find((t) => t.id === group.id)?.processed ?? 0) > 0);

    const merge = await a.migrate(group.ref, { merge: true });
    assert.equal(merge.outcome, 'committed', merge.reason);
    assert.equal(await rms.ask(ref, { op: 'size' }), 200);
    assert.equal(await rms.ask(ref, { op: 'get', key: 'k7' }), 70);
    assert.deepEqual(a.tasks().map((t) => t.id), ['kv-x']);
    assert.deepEqual(b.tasks().filter((t) => t.id.startsWith('kv-x')), []);
    await a.stop(ref);
  });
});
