import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createRuntime, type Runtime, type TaskRef } from '../../src/index.js';
import { sequenced, type SeqState } from '../fixtures/chaos-tasks.js';
import { until } from '../helpers.js';

const script = fileURLToPath(new URL('../fixtures/chaos-node.js', import.meta.url));
const SECRET = 'chaos-processes-secret';
const SIZE = Number(process.env['GODWIT_CHAOS_SIZE'] ?? 1);

interface ChaosNode {
  name: string;
  child: ChildProcess;
  lines: AsyncIterator<string>;
  rl: Interface;
  url: string;
}

async function start(args: string[]): Promise<ChaosNode> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  const lines = rl[Symbol.asyncIterator]();
  const first = await lines.next();
  const info = JSON.parse(String(first.value)) as { url: string; node: string };
  return { name: info.node, child, lines, rl, url: info.url };
}

async function stop(n: ChaosNode | undefined): Promise<void> {
  if (!n || n.child.exitCode !== null || n.child.signalCode !== null) return;
  const exited = once(n.child, 'exit');
  n.child.stdin!.end();
  const timer = setTimeout(() => n.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  n.rl.close();
}

describe('migration chaos (three node processes)', function () {
  this.timeout(60_000);
  const children: ChaosNode[] = [];
  let coordinator: Runtime | undefined;

  after(async () => {
    await coordinator?.shutdown();
    await Promise.all(children.map(stop));
  });

  it('delivers every sender\'s stream exactly once, in order, while migrations move the tasks between processes', async () => {
    const rms = await start(['rms', 'p0', SECRET]);
    children.push(rms);
    children.push(...(await Promise.all([start(['agent', 'p1', SECRET, rms.url]), start(['agent', 'p2', SECRET, rms.url])])));
    // The test process joins to spawn the tasks, run the chaos loop and read the results.
    coordinator = createRuntime({ name: 'coordinator', join: rms.url, auth: { secret: SECRET }, devices: [], tasks: [sequenced], logger: { level: 'silent' }, monitor: false, heartbeatIntervalMs: 50 });
    await coordinator.ready;
    const c = coordinator;
    await until([c], () => c.nodes().length === 4 && c.nodes().every((n) => n.node === 'coordinator' || n.resources === 2));

    const resources = ['p0/cpu-0', 'p0/gpu-0', 'p1/cpu-0', 'p1/gpu-0', 'p2/cpu-0', 'p2/gpu-0'];
    const tasks: TaskRef[] = [0, 1, 2, 3].map((i) => c.spawn(sequenced, { id: `chaos-${i}`, affinity: { prefer: [{ resource: resources[(i * 2) % 6]!, weight: 10 }] } }));
    for (const t of tasks) await c.ask(t, 'report', { timeoutMs: 10_000 });

    const perSender = 300 * SIZE;
    for (const n of children) n.child.stdin!.write(`send ${perSender} ${tasks.map((t) => t.id).join(',')}\n`);
    const sent = Promise.all(children.map(async (n) => JSON.parse(String((await n.lines.next()).value)) as { sent: number }));

    let random = 7;
    const rand = (k: number) => {
      random = (random * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((random / 2 ** 31) * k);
    };
    const outcomes: string[] = [];
    for (let i = 0; i < 30 * SIZE; i++) {
      const task = tasks[rand(tasks.length)]!;
      try {
        const report = await c.migrate(task, { to: resources[rand(resources.length)]!, mode: rand(2) === 0 ? 'pre-copy' : 'stop-and-copy' });
        outcomes.push(report.outcome);
      } catch (err) {
        outcomes.push((err as { code?: string }).code ?? 'error'); // e.g. already on that resource
      }
    }
    assert.deepEqual((await sent).map((s) => s.sent), [perSender, perSender, perSender]);

    for (const t of tasks) {
      const s = await c.ask<SeqState>(t, 'report', { timeoutMs: 10_000 });
      assert.equal(s.violations, 0, `${t.id}: out of order or duplicated: ${s.first.join('; ')}`);
      assert.deepEqual(s.last, { p0: perSender, p1: perSender, p2: perSender }, `${t.id}: last sequence number per sender`);
      assert.equal(s.received, 3 * perSender, `${t.id}: every message exactly once`);
    }
    assert.ok(outcomes.filter((o) => o === 'committed').length >= 8, `too few migrations committed: ${outcomes.join(',')}`);
  });

  it('survives the source dying in the middle of a migration: the task answers again, from the target or from its last snapshot', async () => {
    const c = coordinator!;
    const victim = children[2]!; // p2
    const ref = c.spawn(sequenced, { id: 'orphan', affinity: { prefer: [{ resource: 'p2/cpu-0', weight: 100 }] } });
    assert.equal((await c.ask<SeqState>(ref, 'report', { timeoutMs: 10_000 })).received, 0);
    const moving = c.migrate(ref, { to: 'p1/cpu-0', mode: 'pre-copy' }).then(
      (r) => r.outcome,
      (err: unknown) => (err as { code?: string }).code ?? 'error',
    );
    victim.child.kill('SIGKILL');
    const outcome = await moving;
    // Either it got across before the kill, or it failed and the RMS re-places it from p2's last snapshot.
    assert.ok(['committed', 'aborted', 'GODWIT_ERR_NODE_DOWN'].includes(outcome), outcome);
    let report: SeqState | undefined;
    const deadline = performance.now() + 15_000;
    while (!report) {
      try {
        report = await c.ask<SeqState>(ref, 'report', { timeoutMs: 1000 });
      } catch (err) {
        if (performance.now() > deadline) throw err;
      }
    }
    assert.equal(report.violations, 0);
    await until([c], () => !c.nodes().some((n) => n.node === 'p2'));
  });
});
