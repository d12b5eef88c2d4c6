import assert from 'node:assert/strict';
import { createRuntime, simulatedDevice, type Decision, type Runtime } from '../../src/index.js';
import { sequenced, type SeqState } from '../fixtures/chaos-tasks.js';
import { nextEvent, until } from '../helpers.js';

describe('MigrationController in a cluster (three nodes in one process, real sockets)', function () {
  this.timeout(30_000);
  const nodes: Runtime[] = [];

  after(async () => {
    for (const n of nodes.reverse()) await n.shutdown();
  });

  it('on the RMS, sees the members\' resources and shipped metrics and moves a task from a hot node to a cool one, with its state', async () => {
    const secret = 'controller-cluster-secret';
    const common = { auth: { secret }, logger: { level: 'silent' as const }, heartbeatIntervalMs: 50, monitor: { intervalMs: 50, flushIntervalMs: 50 }, tasks: [sequenced] };
    const rms = createRuntime({
      ...common,
      name: 'rms',
      rms: true,
      devices: [],
      controller: { mode: 'auto', policy: 'reactive', intervalMs: 100, cooldownMs: 60_000 },
    });
    nodes.push(rms);
    await rms.ready;
    const hot = createRuntime({ ...common, name: 'hot', join: rms.url!, devices: [simulatedDevice({ kind: 'cpu', id: 'hot/cpu-0' })] });
    const cool = createRuntime({ ...common, name: 'cool', join: rms.url!, devices: [simulatedDevice({ kind: 'cpu', id: 'cool/cpu-0' })] });
    nodes.push(hot, cool);
    await Promise.all([hot.ready, cool.ready]);
    await until(nodes, () => nodes.every((n) => n.nodes().length === 3));
    // Both start cool, so nothing moves while the task settles on `hot`.
    let hotLoad = 0.2;
    hot.monitorWith('hot/cpu-0', () => ({ utilization: hotLoad }));
    cool.monitorWith('cool/cpu-0', () => ({ utilization: 0.2 }));
    const ref = rms.spawn(sequenced, { id: 'seq', affinity: { prefer: [{ resource: 'hot/cpu-0', weight: 1 }] } });
    for (let i = 1; i <= 50; i++) rms.send(ref, { from: 'rms', seq: i });
    await rms.ask(ref, 'report');
    assert.equal(hot.tasks().length, 1);

    const moved = nextEvent(rms, 'controller.decision', (e) => e.decision.action === 'move' && e.decision.task === 'seq');
    const committed = nextEvent(hot, 'migration.committed', (e) => e.taskId === 'seq');
    hotLoad = 1.3;
    const decision: Decision = (await moved).decision;
    assert.deepEqual([decision.resource, decision.to, decision.reason, decision.executed], ['hot/cpu-0', 'cool/cpu-0', 'predicted-overload', true]);
    await committed;
    for (let i = 51; i <= 100; i++) rms.send(ref, { from: 'rms', seq: i });
    const report = (await rms.ask(ref, 'report')) as SeqState;
    assert.equal(report.received, 100);
    assert.equal(report.last['rms'], 100);
    assert.equal(report.violations, 0);
    assert.equal(cool.tasks().length, 1);
    assert.equal(hot.tasks().length, 0);
  });
});
