/**
 * Live migration between two node processes on loopback: this process (the RMS, with one
 * resource) and a child agent (one resource). A task with 1 MiB / 64 MiB (/ 256 MiB in a full
 * run) of state serves a steady stream of asks (one every millisecond) while it moves back and
 * forth, pre-copy and stop-and-copy alternating. Reported: the pause of each mode (median), the
 * transfer rate of the state against raw ws bulk frames between the same two processes, the ask
 * p99 during pre-copy moves and during stop-and-copy moves against the same load without, the
 * longest event-loop stall of this process during the moves against the quiet second before,
 * and asks lost (must be 0). Both nodes take their periodic re-placement snapshots only every
 * 60 s, so what is measured is the migration (a periodic snapshot of a large state is a stall of
 * its own; see docs/benchmarks.md).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createRuntime, simulatedDevice, type MigrationReport, type Runtime, type TaskRef } from '../src/index.js';
import { connectRawSink } from './raw-sink-client.js';
import { ballast } from './fixtures/sink-tasks.js';
import { startChild, stopChild } from './children.js';
import { type Bench, type BenchResult, benchResult, median } from './report.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const sinkTasks = fileURLToPath(new URL('./fixtures/sink-tasks.js', import.meta.url));
const rawSink = fileURLToPath(new URL('./fixtures/raw-ws-sink.js', import.meta.url));
const SECRET = 'migration-bench-secret';
const MiB = 2 ** 20;

const SNAPSHOT_INTERVAL_MS = 60_000;

interface Load {
  /** Latencies of the asks sent while `tag` held each value. */
  latencies: Record<string, number[]>;
  tag: string;
  lost: number;
  stop(): Promise<void>;
}

/** One ask every millisecond (at most 64 in flight), until stopped; each latency filed under the tag at its send. */
function steadyLoad(rt: Runtime, ref: TaskRef): Load {
  const load: Load = { latencies: {}, tag: 'quiet', lost: 0, stop: async () => {} };
  let running = true;
  const inflight = new Set<Promise<void>>();
  const loop = (async () => {
    while (running) {
      if (inflight.size < 64) {
        const t0 = performance.now();
        const into = (load.latencies[load.tag] ??= []);
        const p: Promise<void> = rt.ask(ref, 'hit', { timeoutMs: 30_000 }).then(
          () => void into.push(performance.now() - t0),
          () => void load.lost++,
        );
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(inflight);
  })();
  load.stop = async () => {
    running = false;
    await loop;
  };
  return load;
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? Number.NaN;

async function rawBulkMBps(url: string, bytes: number): Promise<number> {
  const sink = await connectRawSink(url);
  const before = await sink.read('bytes');
  const frame = Buffer.alloc(MiB, 0xff);
  const t0 = performance.now();
  for (let sent = 0; sent < bytes; sent += MiB) await new Promise<void>((resolve, reject) => sink.socket.send(frame, (err) => (err ? reject(err) : resolve())));
  while ((await sink.read('bytes')) - before < bytes);
  const seconds = (performance.now() - t0) / 1000;
  sink.close();
  return bytes / MiB / seconds;
}

export const bench: Bench = {
  name: 'migration',
  description: 'pause of pre-copy vs stop-and-copy across two node processes, state transfer rate vs raw ws, ask p99 during migrations',
  async run({ quick }) {
    // GODWIT_BENCH_MIGRATION_SIZES=64,256 (MiB) and GODWIT_BENCH_MIGRATION_MOVES=8 narrow a run.
    const sizesEnv = process.env['GODWIT_BENCH_MIGRATION_SIZES'];
    const sizes = sizesEnv ? sizesEnv.split(',').map((m) => Number(m) * MiB) : quick ? [MiB] : [MiB, 64 * MiB, 256 * MiB];
    const moves = Number(process.env['GODWIT_BENCH_MIGRATION_MOVES'] ?? (quick ? 4 : 8));
    const rt = createRuntime({
      name: 'bench-a',
      rms: true,
      auth: { secret: SECRET },
      devices: [],
      tasks: [ballast as never],
      logger: { level: 'error' },
      maxPendingBytes: 512 * MiB,
      snapshotIntervalMs: SNAPSHOT_INTERVAL_MS,
      snapshotShipIntervalMs: SNAPSHOT_INTERVAL_MS,
    });
    await rt.ready;
    rt.addResource(simulatedDevice({ kind: 'cpu', id: 'a/cpu-0', memoryBytes: 64 * 2 ** 30 }));
    const agent = await startChild([cli, 'agent', '--join', rt.url!, '--name', 'bench-b', '--secret', SECRET, '--devices', 'cpu', '--tasks', sinkTasks, '--json', '--log-level', 'error', '--snapshot-interval-ms', String(SNAPSHOT_INTERVAL_MS)]);
    const raw = await startChild([rawSink]);
    const results: BenchResult[] = [];
    const loads: Load[] = [];
    try {
      await new Promise<void>((resolve) => {
        const ready = () => rt.nodes().length >= 2;
        if (ready()) resolve();
        const sub = rt.observe(() => ready() && (sub.unsubscribe(), resolve()), ['node.joined']);
      });
      const remoteResource = 'bench-b/cpu-0';
      for (const size of sizes) {
        const ref = rt.spawn(ballast, { id: `ballast-${size}`, input: size, affinity: { prefer: [{ resource: 'a/cpu-0', weight: 100 }] } });
        await rt.ask(ref, 'ping', { timeoutMs: 60_000 });
        const delay = monitorEventLoopDelay({ resolution: 5 });
        const load = steadyLoad(rt, ref);
        loads.push(load);
        delay.enable();
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const quietStallMs = delay.max / 1e6;
        delay.reset();
        const pauses: Record<'pre-copy' | 'stop-and-copy', number[]> = { 'pre-copy': [], 'stop-and-copy': [] };
        const rates: number[] = [];
        for (let i = 0; i < moves; i++) {
          // There and back per mode: pre-copy, pre-copy, stop-and-copy, stop-and-copy, ...
          const mode = Math.floor(i / 2) % 2 === 0 ? 'pre-copy' : 'stop-and-copy';
          const to = i % 2 === 0 ? remoteResource : 'a/cpu-0';
          load.tag = mode;
          const report: MigrationReport = await rt.migrate(ref, { to, mode });
          load.tag = 'between';
          if (report.outcome !== 'committed') throw new Error(`migration aborted: ${report.reason}`);
          pauses[mode].push(report.pauseMs);
          const prepare = report.phases.find((p) => p.phase === 'prepare')?.atMs ?? 0;
          const commit = report.phases.find((p) => p.phase === 'commit')?.atMs ?? 0;
          if (mode === 'stop-and-copy' && commit > prepare) rates.push(report.bytes / MiB / ((commit - prepare) / 1000));
        }
        const movingStallMs = delay.max / 1e6;
        delay.disable();
        await load.stop();
        const quiet = load.latencies['quiet'] ?? [];
        const label = size >= MiB ? `${size / MiB} MiB` : `${size} B`;
        results.push(
          benchResult({ case: `${label} state`, metric: 'pause (median)', value: median(pauses['pre-copy']), unit: 'ms', baseline: 'stop-and-copy', baselineValue: median(pauses['stop-and-copy']), better: 'lower' }),
          benchResult({ case: `${label} state`, metric: 'transfer rate', value: median(rates), unit: 'MiB/s', baseline: 'raw ws bulk', baselineValue: await rawBulkMBps(String(raw.info['url']), Math.min(size, 64 * MiB)) }),
          benchResult({ case: `${label} state`, metric: 'ask p99, pre-copy moves', value: p99(load.latencies['pre-copy'] ?? []), unit: 'ms', baseline: 'same load, no migration', baselineValue: p99(quiet), better: 'lower' }),
          benchResult({ case: `${label} state`, metric: 'ask p99, stop-and-copy moves', value: p99(load.latencies['stop-and-copy'] ?? []), unit: 'ms', baseline: 'same load, no migration', baselineValue: p99(quiet), better: 'lower' }),
          benchResult({ case: `${label} state`, metric: 'longest loop stall, moving', value: movingStallMs, unit: 'ms', baseline: 'quiet second before', baselineValue: quietStallMs, better: 'lower' }),
          benchResult({ case: `${label} state`, metric: 'asks lost', value: load.lost, unit: 'asks', baseline: 'must be 0', baselineValue: 0, better: 'lower' }),
        );
        await rt.stop(ref).catch(() => {});
      }
      return results;
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
      await Promise.all([stopChild(agent.child), stopChild(raw.child)]);
      await rt.shutdown();
    }
  },
};
