/**
 * `godwit demo`: the built-in scenario until the full demo lands. Four simulated resources (cpu,
 * gpu, fpga, asic) host a counter service, a matrix-multiply task with cpu and gpu kernels, a
 * checksum task with fpga and cpu kernels and a task that crashes once; a client sends a steady
 * stream of requests. Midway the FPGA fails and its task is re-placed from its snapshot. The
 * summary counts every request: answered, failed with a typed error, or lost (no answer).
 */
import { createRuntime, defineTask, isGodwitError, simulatedDevice, type Runtime, type TaskRef } from '../index.js';
import { table, type Output } from './output.js';

export interface DemoOptions {
  seconds: number;
  /** Requests a second the client sends, spread over all services (default 2000). */
  rate?: number;
  /** Latency above which a request counts as an SLO violation, ms (default 50). */
  sloMs?: number;
}

export interface DemoSummary {
  policy: 'static';
  seconds: number;
  requests: { sent: number; answered: number; failed: number; retried: number; lost: number };
  latencyMs: { p50: number; p99: number; max: number };
  sloViolations: number;
  migrations: number;
  restarts: number;
  replacements: number;
  energyJ: number;
  resources: Array<{ id: string; kind: string; status: string; tasks: number; busyMs: number; energyJ: number }>;
  tasks: Array<{ id: string; resource: string; processed: number; restarts: number; epoch: number }>;
}

const N = 24;
function matmul(seed: number): number {
  const a = new Float64Array(N * N).map((_, i) => ((i * 31 + seed) % 17) / 17);
  let trace = 0;
  for (let i = 0; i < N; i++) for (let k = 0; k < N; k++) trace += a[i * N + k]! * a[k * N + i]!;
  return trace;
}

function checksum(seed: number): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < 2048; i++) h = Math.imul(h ^ i, 16777619);
  return h >>> 0;
}

type Req = { key: number };

const counterService = defineTask<Record<number, number>, Req, number>({
  name: 'counter-service',
  affinity: { prefer: [{ kind: 'cpu' }] },
  init: () => ({}),
  receive(counts, { key }, ctx) {
    const n = (counts[key] ?? 0) + 1;
    ctx.reply(n);
    return { ...counts, [key]: n };
  },
});

const matrix = defineTask<{ done: number }, Req, number>({
  name: 'matmul',
  affinity: { prefer: [{ kind: 'gpu', weight: 2 }] },
  kernels: { cpu: (seed: number) => matmul(seed), gpu: (seed: number) => matmul(seed) },
  init: () => ({ done: 0 }),
  receive(s, { key }, ctx) {
    ctx.reply(ctx.kernel<number, number>(key));
    return { done: s.done + 1 };
  },
});

const checksums = defineTask<{ done: number }, Req, number>({
  name: 'checksum',
  affinity: { prefer: [{ kind: 'fpga', weight: 2 }] },
  kernels: { fpga: (seed: number) => checksum(seed), cpu: (seed: number) => checksum(seed), asic: (seed: number) => checksum(seed) },
  init: () => ({ done: 0 }),
  receive(s, { key }, ctx) {
    ctx.reply(ctx.kernel<number, number>(key));
    return { done: s.done + 1 };
  },
});

/** Crashes once, on its `crashAt`-th request: supervision restarts it. The input outlives restarts. */
type Fault = { crashAt: number; fired: boolean };
const flaky = defineTask<{ served: number; fault: Fault }, Req, number, Fault>({
  name: 'flaky',
  affinity: { require: { kinds: ['asic'] } },
  init: (fault) => ({ served: 0, fault }),
  receive(s, { key }, ctx) {
    if (s.served + 1 === s.fault.crashAt && !s.fault.fired) {
      s.fault.fired = true;
      throw new Error('simulated fault in the flaky task');
    }
    ctx.reply(key);
    return { served: s.served + 1, fault: s.fault };
  },
});

function logLevel(): 'silent' | 'warn' | 'info' | 'debug' {
  const level = process.env['GODWIT_LOG_LEVEL'];
  return level === 'warn' || level === 'info' || level === 'debug' ? level : 'silent';
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export async function runDemo(options: DemoOptions, out: Output): Promise<DemoSummary> {
  const rate = options.rate ?? 2000;
  const sloMs = options.sloMs ?? 50;
  const rt: Runtime = createRuntime({
    name: 'demo',
    devices: [
      simulatedDevice({ kind: 'cpu', id: 'cpu-0' }),
      simulatedDevice({ kind: 'gpu', id: 'gpu-0', speed: { matmul: 12 } }),
      simulatedDevice({ kind: 'fpga', id: 'fpga-0', speed: { checksum: 6 } }),
      simulatedDevice({ kind: 'asic', id: 'asic-0', speed: { checksum: 20 } }),
    ],
    snapshotIntervalMs: 200,
    // The faults are on purpose and the summary reports them; set GODWIT_LOG_LEVEL to see the logs.
    logger: { level: logLevel() },
  });
  let restarts = 0;
  let replacements = 0;
  rt.observe((e) => {
    if (e.type === 'task.restarted') {
      restarts++;
      out.line(`  supervision: ${e.taskId} restarted on ${e.resource} after ${e.delayMs} ms`);
    } else if (e.type === 'task.replaced') {
      replacements++;
      out.line(`  supervision: ${e.taskId} re-placed ${e.from} -> ${e.to} (${e.reason}, from snapshot: ${e.fromSnapshot})`);
    } else if (e.type === 'resource.failed') out.line(`  incident: ${e.resource} failed with ${e.tasks} task(s)`);
  });
  const services: TaskRef[] = [rt.spawn(counterService), rt.spawn(matrix), rt.spawn(checksums), rt.spawn(flaky, { input: { crashAt: 100, fired: false } })];
  out.line(`godwit demo: ${services.length} tasks on ${rt.resources().length} simulated resources, ${rate} requests/s for ${options.seconds} s`);
  for (const t of rt.tasks()) out.line(`  ${t.id.padEnd(20)} on ${t.resource}`);

  const latencies: number[] = [];
  const requests = { sent: 0, answered: 0, failed: 0, retried: 0, lost: 0 };
  const inflight: Promise<void>[] = [];
  const request = async (to: TaskRef, key: number): Promise<void> => {
    const t0 = performance.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await rt.ask(to, { key }, { timeoutMs: 2000 });
        latencies.push(performance.now() - t0);
        requests.answered++;
        return;
      } catch (err) {
        const code = isGodwitError(err) ? err.code : undefined;
        if (code === 'GODWIT_ERR_ASK_TIMEOUT') {
          requests.lost++;
          return;
        }
        if (code === 'GODWIT_ERR_TASK_CRASHED' && attempt === 0) {
          requests.retried++;
          continue;
        }
        requests.failed++;
        return;
      }
    }
  };

  const tickMs = 10;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const ticks = Math.round((options.seconds * 1000) / tickMs);
  const started = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    if (tick === Math.floor(ticks / 2)) rt.failResource('fpga-0');
    for (let i = 0; i < perTick; i++) {
      requests.sent++;
      inflight.push(request(services[requests.sent % services.length]!, requests.sent));
    }
    const due = started + (tick + 1) * tickMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
  }
  await Promise.all(inflight);

  latencies.sort((a, b) => a - b);
  const resources = rt.resources();
  const summary: DemoSummary = {
    policy: 'static',
    seconds: options.seconds,
    requests,
    latencyMs: { p50: round(percentile(latencies, 50), 3), p99: round(percentile(latencies, 99), 3), max: round(latencies.at(-1) ?? 0, 3) },
    sloViolations: latencies.filter((l) => l > sloMs).length,
    migrations: 0,
    restarts,
    replacements,
    energyJ: round(resources.reduce((sum, r) => sum + r.energyJ, 0)),
    resources: resources.map((r) => ({ id: r.id, kind: r.kind, status: r.status, tasks: r.tasks, busyMs: round(r.busyMs), energyJ: round(r.energyJ) })),
    tasks: rt.tasks().map((t) => ({ id: t.id, resource: t.resource, processed: t.processed, restarts: t.restarts, epoch: t.epoch })),
  };
  await rt.shutdown();

  out.line();
  out.line(table(['resource', 'kind', 'status', 'tasks', 'busy ms', 'energy J'], summary.resources.map((r) => [r.id, r.kind, r.status, r.tasks, r.busyMs, r.energyJ])));
  out.line();
  out.line(table(['task', 'resource', 'handled', 'restarts', 'epoch'], summary.tasks.map((t) => [t.id, t.resource, t.processed, t.restarts, t.epoch])));
  out.line();
  const q = summary.requests;
  out.line(`requests: ${q.sent} sent, ${q.answered} answered, ${q.failed} failed, ${q.retried} retried after a crash, ${q.lost} lost`);
  out.line(`latency: p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms; ${summary.sloViolations} over the ${sloMs} ms SLO`);
  out.line(`supervision: ${restarts} restart(s), ${replacements} re-placement(s); energy ${summary.energyJ} J`);
  return summary;
}
