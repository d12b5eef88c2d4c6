/**
 * `godwit demo`: an RMS and three resource nodes (child processes on loopback, or one process
 * with `--inproc`) with simulated cpu, gpu, fpga and asic devices whose load and temperature
 * follow time-compressed profiles; a counter service, a streaming aggregator (Arrow state) and a
 * matrix kernel (cpu and gpu kernels) serve a steady request load; a load surge builds up on one
 * cpu and a gpu heats up and fails. The migration controller on the RMS (`--policy predictive`
 * or `reactive`; `static`: off) moves tasks; a live view shows it, a summary counts every request.
 * SIGINT/SIGTERM end the run early: the load stops, every node process is stopped and awaited,
 * and the summary of the run so far is printed.
 */
import type { TraceFormat } from '../devices/traces.js';
import { percentile, startLoad, type Load } from './demo-client.js';
import { startDemoCluster, type DemoCluster, type DemoPolicy } from './demo-cluster.js';
import type { DemoEvent } from './demo-host.js';
import { buildSummary, energyOf, printSummary, type DemoSummary } from './demo-summary.js';
import { demoLayout } from './demo-tasks.js';
import { LiveView, progressLine, renderFrame, type ViewMigration, type ViewState } from './demo-view.js';
import type { Output } from './output.js';

export type { DemoSummary } from './demo-summary.js';

export interface DemoOptions {
  seconds: number;
  policy: DemoPolicy;
  /** One process instead of an RMS and three node processes. */
  inproc: boolean;
  /** A utilization trace for the devices' background load, and its format. */
  trace?: { file: string; format: TraceFormat };
  /** Requests a second over all tasks (default 400). */
  rate?: number;
  /** Latency above which an answered request is an SLO violation, ms (default 50). */
  sloMs?: number;
  /** Seed of the profiles' noise (default 7). */
  seed?: number;
}

function logLevel(): 'silent' | 'warn' | 'info' | 'debug' {
  const level = process.env['GODWIT_LOG_LEVEL'];
  return level === 'warn' || level === 'info' || level === 'debug' ? level : 'silent';
}

const REFRESH_MS = 250;

/** Runs the demo; resolves with its summary (`interrupted` when a signal ended it early). */
export async function runDemo(o: DemoOptions, out: Output): Promise<DemoSummary> {
  const rate = o.rate ?? 400;
  const sloMs = o.sloMs ?? 50;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const notes: string[] = [];
  let cluster: DemoCluster | undefined;
  try {
    cluster = await startDemoCluster({
      inproc: o.inproc,
      policy: o.policy,
      settings: { seconds: o.seconds, seed: o.seed ?? 7 },
      trace: o.trace,
      monitorMs: 100,
      logLevel: logLevel(),
      onChildExit: (node, code) => notes.push(`node process ${node} exited (code ${code})`),
    });
    if (o.trace) out.note(`godwit demo: background load from ${o.trace.file} (${o.trace.format})`);
    out.note(`godwit demo: pids ${JSON.stringify({ demo: process.pid, nodes: cluster.children })}`);
    return await run(cluster, o, out, { rate, sloMs, stop: stop.signal, notes });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cluster?.close();
  }
}

async function run(cluster: DemoCluster, o: DemoOptions, out: Output, x: { rate: number; sloMs: number; stop: AbortSignal; notes: string[] }): Promise<DemoSummary> {
  const { rt } = cluster;
  const refs = demoLayout.map((t) => ({ ref: rt.spawn(t.def as never, { id: t.id, affinity: { prefer: [{ resource: t.resource, weight: 10 }] } }), message: t.message }));
  // Every task answers once before the clock starts, so the run measures serving, not start-up.
  await Promise.all(refs.map((t) => rt.ask(t.ref, t.message(0), { timeoutMs: 10_000 })));
  const startedAt = performance.now();
  const startClockMs = rt.clock.now();
  const elapsedS = () => (performance.now() - startedAt) / 1000;
  const { events, migrations } = followEvents(cluster, elapsedS, x.notes);
  cluster.start();
  const load = startLoad(rt, refs, { rate: x.rate, sloMs: x.sloMs, timeoutMs: 10_000 });
  out.line(`godwit demo: policy ${o.policy}, ${o.seconds} s, ${demoLayout.length} tasks, ${x.rate} requests/s, ${o.inproc ? 'one process' : `RMS + ${cluster.children.length} node processes`}`);

  try {
    return await observe(cluster, o, out, x, { load, events, migrations, startedAt, startClockMs });
  } finally {
    await load.stop();
  }
}

/** Records the nodes' events with their run time, and keeps the view's migrations and incident notes up to date. */
function followEvents(cluster: DemoCluster, elapsedS: () => number, notes: string[]): { events: Running['events']; migrations: ViewMigration[] } {
  const events: Running['events'] = [];
  const migrations: ViewMigration[] = [];
  cluster.onEvent((e, node) => {
    const atS = elapsedS();
    events.push({ atS, event: e });
    if (e.type === 'migration.started') migrations.push({ task: e.taskId, from: e.from, to: e.to, startedAtS: atS });
    else if (e.type === 'migration.committed' || e.type === 'migration.aborted') {
      const m = [...migrations].reverse().find((v) => v.task === e.taskId && v.outcome === undefined);
      if (!m) return;
      const d = cluster.rt.controller?.decisions().filter((v) => v.executed && v.task === e.taskId).at(-1);
      Object.assign(m, { endedAtS: atS, to: e.to, outcome: e.type === 'migration.committed' ? 'committed' : 'aborted' });
      if (e.type === 'migration.committed') m.pauseMs = e.pauseMs;
      if (d) m.why = `${d.action}: ${d.reason}`;
    } else if (e.type === 'resource.failed') notes.push(`${atS.toFixed(1)} s  ${e.resource} failed (${e.tasks} task(s) on it) on ${node}`);
    else if (e.type === 'task.replaced') notes.push(`${atS.toFixed(1)} s  supervision re-placed ${e.taskId} ${e.from} -> ${e.to}`);
  });
  return { events, migrations };
}

interface Running {
  load: Load;
  events: Array<{ atS: number; event: DemoEvent }>;
  migrations: ViewMigration[];
  startedAt: number;
  startClockMs: number;
}

/** Refreshes the view until the run's end (or a signal), then stops the load and builds the summary. */
async function observe(cluster: DemoCluster, o: DemoOptions, out: Output, x: { rate: number; sloMs: number; stop: AbortSignal; notes: string[] }, r: Running): Promise<DemoSummary> {
  const { rt } = cluster;
  const { load, events, migrations, startedAt, startClockMs } = r;
  const elapsedS = () => (performance.now() - startedAt) / 1000;
  const view = out.tty ? new LiveView(out) : undefined;
  let rows: Awaited<ReturnType<DemoCluster['rows']>> = { resources: [], tasks: [] };
  let lastProgress = 0;
  const state = (): ViewState => {
    const recent = load.recent(1000).sort((a, b) => a - b);
    return {
      policy: o.policy,
      elapsedS: Math.min(elapsedS(), o.seconds),
      seconds: o.seconds,
      resources: rows.resources,
      tasks: rows.tasks,
      forecast: (id) => cluster.forecasts.utilization(id, cluster.horizonMs)?.p50,
      stats: load.stats,
      recentP99Ms: percentile(recent, 99),
      sloMs: x.sloMs,
      migrations,
      notes: x.notes,
    };
  };
  const refresh = async () => {
    rows = await cluster.rows().catch(() => rows);
    if (o.policy === 'static') cluster.forecasts.refresh?.(rt.clock.now()); // no controller refreshes them
    if (view) view.draw(renderFrame(state()));
    else if (!out.json && elapsedS() - lastProgress >= 1) {
      lastProgress = elapsedS();
      out.line(progressLine(state()));
    }
  };
  const endAt = startedAt + o.seconds * 1000;
  while (!x.stop.aborted && performance.now() < endAt) {
    await refresh();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(REFRESH_MS, Math.max(0, endAt - performance.now())));
      function done() {
        clearTimeout(timer);
        x.stop.removeEventListener('abort', done);
        resolve();
      }
      x.stop.addEventListener('abort', done);
    });
  }
  await load.stop();
  const endClockMs = rt.clock.now();
  await refresh().finally(() => view?.close());
  const energyJ: Record<string, number> = {};
  for (const r of rows.resources) energyJ[r.id] = energyOf(rt, r.id, startClockMs, endClockMs);
  const summary = buildSummary({
    policy: o.policy,
    inproc: o.inproc,
    seconds: Math.round(elapsedS() * 10) / 10,
    interrupted: x.stop.aborted,
    children: cluster.children,
    stats: load.stats,
    sloMs: x.sloMs,
    events,
    decisions: rt.controller?.decisions() ?? [],
    resources: rows.resources,
    energyJ,
  });
  printSummary(summary, out);
  return summary;
}
