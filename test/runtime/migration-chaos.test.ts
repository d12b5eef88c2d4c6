import assert from 'node:assert/strict';
import { createRuntime, simulatedDevice, type Runtime, type TaskRef } from '../../src/index.js';
import { sequenced, type SeqState } from '../fixtures/chaos-tasks.js';
import { until } from '../helpers.js';

const SIZE = Number(process.env['GODWIT_CHAOS_SIZE'] ?? 1);

describe('migration chaos (three nodes, in one process, real sockets)', function () {
  this.timeout(60_000);
  const nodes: Runtime[] = [];

  after(async () => {
    for (const n of nodes.reverse()) await n.shutdown();
  });

  it('delivers every sender\'s stream exactly once, in order, across many migrations between nodes and resources', async () => {
    const secret = 'chaos-secret';
    const common = { auth: { secret }, logger: { level: 'silent' as const }, heartbeatIntervalMs: 50, monitor: false as const, tasks: [sequenced] };
    const rms = createRuntime({ ...common, name: 'rms', rms: true, devices: [simulatedDevice({ kind: 'cpu', id: 'rms/cpu-0' })] });
    nodes.push(rms);
    await rms.ready;
    const a = createRuntime({ ...common, name: 'a', join: rms.url!, devices: [simulatedDevice({ kind: 'gpu', id: 'a/gpu-0' }), simulatedDevice({ kind: 'cpu', id: 'a/cpu-0' })] });
    const b = createRuntime({ ...common, name: 'b', join: rms.url!, devices: [simulatedDevice({ kind: 'fpga', id: 'b/fpga-0' })] });
    nodes.push(a, b);
    await Promise.all([a.ready, b.ready]);
    await until(nodes, () => nodes.every((n) => n.nodes().length === 3));

    const resources = ['rms/cpu-0', 'a/gpu-0', 'a/cpu-0', 'b/fpga-0'];
    const tasks: TaskRef[] = [0, 1, 2, 3].map((i) => rms.spawn(sequenced, { id: `seq-${i}`, affinity: { prefer: [{ resource: resources[i]!, weight: 10 }] } }));
    for (const t of tasks) await rms.ask(t, 'report');

    const perSender = 400 * SIZE;
    const senders = nodes.map((n, i) => ({ rt: n, name: `s${i}` }));
    let random = 42;
    const rand = (n: number) => {
      random = (random * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((random / 2 ** 31) * n); // high bits: an LCG's low bits cycle
    };

    const sending = Promise.all(
      senders.map(async ({ rt, name }) => {
        for (let seq = 1; seq <= perSender; seq++) {
          for (const t of tasks) rt.send(t, { from: name, seq });
          if (seq % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    const outcomes: string[] = [];
    const chaos = (async () => {
      for (let i = 0; i < 40 * SIZE; i++) {
        const task = tasks[rand(tasks.length)]!;
        const to = resources[rand(resources.length)]!;
        const mode = rand(2) === 0 ? 'pre-copy' : 'stop-and-copy';
        try {
          const report = await rms.migrate(task, { to, mode });
          outcomes.push(report.outcome);
        } catch (err) {
          outcomes.push(`${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}`); // e.g. already on `to`
        }
      }
    })();
    await Promise.all([sending, chaos]);

    for (const t of tasks) {
      const s = await rms.ask<SeqState>(t, 'report', { timeoutMs: 10_000 });
      assert.equal(s.violations, 0, `${t.id}: out-of-order or duplicate messages: ${s.first.join('; ')}`);
      assert.deepEqual(s.last, Object.fromEntries(senders.map(({ name }) => [name, perSender])), `${t.id}: last seq per sender`);
      assert.equal(s.received, perSender * senders.length, `${t.id}: every message exactly once`);
    }
    assert.ok(outcomes.filter((o) => o === 'committed').length >= 10, `too few migrations committed: ${outcomes.join(',')}`);
  });
});
