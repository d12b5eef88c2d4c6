import assert from 'node:assert/strict';
import { connectDebugSocket, createRuntime, simulatedDevice, type Runtime } from '../../src/index.js';
import { counter } from '../fixtures.js';
import { quietRuntime } from '../helpers.js';

describe('Runtime#drainResource', () => {
  let rt: Runtime;
  afterEach(async () => rt?.shutdown());

  it('live-migrates tasks off the resource with their state and queued messages, and places nothing new there', async () => {
    rt = quietRuntime({ snapshotIntervalMs: Infinity });
    const a = rt.spawn(counter, { id: 'a', input: 1, affinity: { prefer: [{ kind: 'cpu' }] } });
    const pinned = rt.spawn(counter, { id: 'pinned', affinity: { require: { resources: ['cpu-0'] } } });
    rt.send(a, { type: 'inc', by: 10 });
    assert.equal(await rt.ask(a, { type: 'get' }), 11); // no snapshot since init: the live state moves
    rt.send(a, { type: 'inc' }); // queued when the drain starts
    const { moved, stayed, migrations } = await rt.drainResource('cpu-0');
    assert.deepEqual([moved, stayed], [1, 1]);
    assert.deepEqual(
      migrations.map((m) => [m.task, m.outcome, m.to]),
      [
        ['a', 'committed', 'gpu-0'],
        ['pinned', 'aborted', ''],
      ],
    );
    assert.equal(await rt.ask(a, { type: 'get' }), 12);
    assert.equal(await rt.ask(pinned, { type: 'get' }), 0);
    assert.equal(rt.resources().find((r) => r.id === 'cpu-0')?.status, 'draining');
    const fresh = rt.spawn(counter, { affinity: { prefer: [{ kind: 'cpu', weight: 100 }] } });
    assert.equal(rt.tasks().find((t) => t.id === fresh.id)?.resource, 'gpu-0');
    rt.undrainResource('cpu-0');
    const later = rt.spawn(counter, { affinity: { prefer: [{ kind: 'cpu', weight: 100 }] } });
    assert.equal(rt.tasks().find((t) => t.id === later.id)?.resource, 'cpu-0');
    await assert.rejects(rt.drainResource('nope'), { code: 'GODWIT_ERR_UNKNOWN_RESOURCE' });
  });

  it('is an admin command of the debug socket', async () => {
    rt = createRuntime({
      logger: { level: 'silent' },
      devices: [simulatedDevice({ kind: 'cpu', id: 'cpu-0' }), simulatedDevice({ kind: 'gpu', id: 'gpu-0' })],
      debug: { token: 'drain-token', admin: true },
    });
    await rt.ready;
    const ref = rt.spawn(counter, { input: 3, affinity: { prefer: [{ kind: 'gpu' }] } });
    await rt.ask(ref, { type: 'get' });
    const client = await connectDebugSocket(rt.debugUrl!, { token: 'drain-token' });
    try {
      const answer = (await client.request('drain', { resource: 'gpu-0' })) as { result: { moved: number } };
      assert.equal(answer.result.moved, 1);
    } finally {
      await client.close();
    }
    assert.equal(await rt.ask(ref, { type: 'get' }), 3);
    assert.equal(rt.tasks()[0]?.resource, 'cpu-0');
  });
});
