import assert from 'node:assert/strict';
import { PartitionedState, defineTask, type Runtime } from '../../src/index.js';
import { quietRuntime } from '../helpers.js';

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

describe('Runtime#migrate with partitions (within a node)', () => {
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
