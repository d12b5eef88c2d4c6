import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createRuntime, type Runtime, type TaskRef } from '../../src/index.js';
import { sequenced, type SeqState } from '../fixtures/chaos-tasks.js';
import { endChild, until } from '../helpers.js';

const script = fileURLToPath(new URL('../fixtures/chaos-node.js', import.meta.url));
const SECRET = 'chaos-processes-secret';
const SIZE = Number(process.env['GODWIT_CHAOS_SIZE'] ?? 1);
/** Migrations in the chaos loop (200 in CI; GODWIT_CHAOS_SIZE scales it). */
const MIGRATIONS = 200 * SIZE;

interface ChaosNode {
  name: string;
  child: ChildProcess;
  rl: Interface;
  url: string;
  /** Writes a command line (see fixtures/chaos-node.ts). */
  command(line: string): void;
  /** The next line the node prints that has `key`. */
  next<T>(key: string): Promise<T>;
}

async function start(args: string[]): Promise<ChaosNode> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  const seen: Array<Record<string, unknown>> = [];
  const waiting: Array<{ key: string; resolve: (v: Record<string, unknown>) => void }> = [];
  rl.on('line', (line) => {
    const obj = JSON.parse(line) as Record<string, unknown>;
    const w = waiting.findIndex((x) => x.key in obj);
    if (w >= 0) waiting.splice(w, 1)[0]!.resolve(obj);
    else seen.push(obj);
  });
  const next = <T>(key: string): Promise<T> => {
    const i = seen.findIndex((x) => key in x);
    if (i >= 0) return Promise.resolve(seen.splice(i, 1)[0] as T);
    return new Promise((resolve) => waiting.push({ key, resolve: resolve as (v: Record<string, unknown>) => void }));
  };
  const info = await next<{ url: string; node: string }>('url');
  return { name: info.node, child, rl, url: info.url, command: (line) => void child.stdin!.write(`${line}\n`), next };
}

async function stop(n: ChaosNode | undefined): Promise<void> {
  if (!n) return;
  await endChild(n.child);
  n.rl.close();
}

describe('migration chaos (three node processes)', function () {
  this.timeout(60_000 * SIZE);
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

    // Every sender streams to every task for the whole chaos loop.
    for (const n of children) n.command(`stream ${tasks.map((t) => t.id).join(',')}`);

    let random = 7;
    const rand = (k: number) => {
      random = (random * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((random / 2 ** 31) * k);
    };
    const faults = ['refuse', 'reject-chunk', 'stall-chunk', 'reject-commit'] as const;
    const outcomes: Array<{ outcome: string; fault: string | undefined; reason: string }> = [];
    for (let i = 0; i < MIGRATIONS; i++) {
      const task = tasks[rand(tasks.length)]!;
      const to = resources[rand(resources.length)]!;
      // One migration in five meets a failure injected at its target node's end.
      const fault = rand(5) === 0 ? faults[rand(faults.length)] : undefined;
      if (fault) {
        const node = children.find((n) => to.startsWith(`${n.name}/`))!;
        node.command(`fault ${fault}`);
        await node.next('armed');
      }
      try {
        const report = await c.migrate(task, { to, mode: rand(2) === 0 ? 'pre-copy' : 'stop-and-copy', phaseTimeoutMs: 500 });
        outcomes.push({ outcome: report.outcome, fault, reason: report.reason ?? '' });
      } catch (err) {
        outcomes.push({ outcome: (err as { code?: string }).code ?? 'error', fault, reason: String(err) }); // e.g. already on that resource
      }
    }
    for (const n of children) n.command('stop');
    const sent = await Promise.all(children.map(async (n) => (await n.next<{ sent: number }>('sent')).sent));

    for (const t of tasks) {
      const s = await c.ask<SeqState>(t, 'report', { timeoutMs: 10_000 });
      assert.equal(s.violations, 0, `${t.id}: out of order or duplicated: ${s.first.join('; ')}`);
      assert.deepEqual(s.last, { p0: sent[0], p1: sent[1], p2: sent[2] }, `${t.id}: last sequence number per sender`);
      assert.equal(s.received, sent[0]! + sent[1]! + sent[2]!, `${t.id}: every message exactly once`);
    }
    const committed = outcomes.filter((o) => o.outcome === 'committed').length;
    const injected = outcomes.filter((o) => o.outcome === 'aborted' && /injected fault|timed out in phase/.test(o.reason));
    assert.ok(committed >= MIGRATIONS / 3, `too few migrations committed: ${committed} of ${MIGRATIONS}`);
    assert.ok(injected.length >= MIGRATIONS / 20, `too few injected failures hit a migration: ${injected.length}`);
    assert.ok(injected.some((o) => /timed out in phase/.test(o.reason)) && injected.some((o) => /refuse/.test(o.reason)), 'refusals and phase timeouts both happened');
    assert.ok(outcomes.every((o) => o.outcome !== 'aborted' || o.fault !== undefined || /injected fault|timed out/.test(o.reason)), `an abort nobody injected: ${JSON.stringify(outcomes.find((o) => o.outcome === 'aborted' && !o.fault))}`);
    assert.ok(sent.every((n) => n > 0));
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

  it('survives the target dying right after its commit, unanswered: the RMS re-places the task onto the source, whose frozen copy gives way, and no stamped send is lost', async () => {
    const c = coordinator!;
    const target = children[1]!; // p1; the source is p0, which is also the RMS
    const ref = c.spawn(sequenced, { id: 'in-doubt', affinity: { prefer: [{ resource: 'p0/cpu-0', weight: 100 }] } });
    const N = 200;
    for (let seq = 1; seq <= N; seq++) c.send(ref, { from: 'coordinator', seq });
    assert.equal((await c.ask<SeqState>(ref, 'report', { timeoutMs: 10_000 })).received, N);
    target.command('fault die-after-commit');
    await target.next('armed');
    const report = await c.migrate(ref, { to: 'p1/cpu-0', phaseTimeoutMs: 1000 });
    // The target committed: the migration did, though the task ends up re-placed on the source.
    assert.equal(report.outcome, 'committed', report.reason);
    assert.ok(report.phases.some((p) => p.phase === 'in-doubt'), 'its commit was in doubt');
    for (let seq = N + 1; seq <= 2 * N; seq++) c.send(ref, { from: 'coordinator', seq });
    let s: SeqState | undefined;
    const deadline = performance.now() + 15_000;
    while (!s || s.received < 2 * N) {
      try {
        s = await c.ask<SeqState>(ref, 'report', { timeoutMs: 1000 });
      } catch (err) {
        if (performance.now() > deadline) throw err;
      }
      if (performance.now() > deadline) break;
    }
    assert.ok(s);
    assert.equal(s.violations, 0, s.first.join('; '));
    assert.deepEqual([s.last['coordinator'], s.received], [2 * N, 2 * N], 'every send once, in order');
    assert.ok(!c.nodes().some((n) => n.node === 'p1'), 'p1 is gone');
  });
});
