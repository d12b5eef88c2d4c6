/**
 * Live migration between two node processes on loopback: this process (the RMS, with one
 * resource) and a child agent (one resource). A task with 1 MiB / 64 MiB (/ 256 MiB in a full
 * run) of state serves a steady stream of asks (one every millisecond) while it moves back and
 * forth, pre-copy and stop-and-copy alternating. Reported: the pause of each mode (median), the
 * pre-copy pause's p99 and max over the run's pre-copy moves (against stop-and-copy's), the
 * transfer rate of the state against raw ws bulk frames between the same two processes (measured
 * right before each stop-and-copy move, with ws's random masks and with the zero masks node links
 * use; the medians are the baselines), the ask
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

type Mode = 'pre-copy' | 'stop-and-copy';

const maxOf = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => Math.max(a, b)));

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? Number.NaN;

async function rawBulkMBps(url: string, bytes: number, zeroMask: boolean): Promise<number> {
  const sink = await connectRawSink(url, { zeroMask });
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
    // GODWIT_BENCH_MIGRATION_SIZES=64,256 (MiB) and GODWIT_BENCH_MIGRATION_MOVES=8 narrow (or
    // widen) a run; GODWIT_BENCH_MIGRATION_MODES=pre-copy moves in that mode only (for a p99 of
    // the pre-copy pause over 100 moves or more, without as many stop-and-copy moves).
    const sizesEnv = process.env['GODWIT_BENCH_MIGRATION_SIZES'];
    const sizes = sizesEnv ? sizesEnv.split(',').map((m) => Number(m) * MiB) : quick ? [MiB] : [MiB, 64 * MiB, 256 * MiB];
    const moves = Number(process.env['GODWIT_BENCH_MIGRATION_MOVES'] ?? (quick ? 4 : 8));
    if (!Number.isInteger(moves) || moves < 1) throw new Error('GODWIT_BENCH_MIGRATION_MOVES must be a positive integer');
    const trace = process.env['GODWIT_BENCH_MIGRATION_TRACE'] === '1';
    const modes = (process.env['GODWIT_BENCH_MIGRATION_MODES'] ?? 'pre-copy,stop-and-copy').split(',') as Mode[];
    if (modes.length === 0 || !modes.every((m) => m === 'pre-copy' || m === 'stop-and-copy')) throw new Error('GODWIT_BENCH_MIGRATION_MODES must list pre-copy and/or stop-and-copy');
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
        const pauses: Record<Mode, number[]> = { 'pre-copy': [], 'stop-and-copy': [] };
        const rates: number[] = [];
        const raws: Record<'masked' | 'zero', number[]> = { masked: [], zero: [] };
        let movingStallMs = 0;
        for (let i = 0; i < moves; i++) {
          // There and back per mode: pre-copy, pre-copy, stop-and-copy, stop-and-copy, ...
          const mode = modes[Math.floor(i / 2) % modes.length]!;
          const to = i % 2 === 0 ? remoteResource : 'a/cpu-0';
          if (mode === 'stop-and-copy') {
            // The baselines right before each move they are compared with, so a change of load
            // on a shared machine moves both (kept out of the loop-stall window).
            movingStallMs = Math.max(movingStallMs, delay.max / 1e6);
            load.tag = 'between';
            raws.masked.push(await rawBulkMBps(String(raw.info['url']), Math.min(size, 64 * MiB), false));
            raws.zero.push(await rawBulkMBps(String(raw.info['url']), Math.min(size, 64 * MiB), true));
            delay.reset();
          }
          load.tag = mode;
          const report: MigrationReport = await rt.migrate(ref, { to, mode });
          load.tag = 'between';
          if (report.outcome !== 'committed') throw new Error(`migration aborted: ${report.reason}`);
          pauses[mode].push(report.pauseMs);
          // GODWIT_BENCH_MIGRATION_TRACE=1: each pause over 4 ms, split into its phases, on stderr.
          if (trace && report.pauseMs > 4) {
            const at = (name: string) => report.phases.find((p) => p.phase === name)?.atMs ?? NaN;
            const ms = (from: string, to: string) => (at(to) - at(from)).toFixed(1);
            process.stderr.write(`slow pause: move ${i} (${mode} to ${to}) ${report.pauseMs.toFixed(1)} ms: freeze->commit ${ms('freeze', 'commit')}, commit->redirect ${ms('commit', 'redirect')}, redirect->decommission ${ms('redirect', 'decommission')}\n`);
          }
          const prepare = report.phases.find((p) => p.phase === 'prepare')?.atMs ?? 0;
          const commit = report.phases.find((p) => p.phase === 'commit')?.atMs ?? 0;
          if (mode === 'stop-and-copy' && commit > prepare) rates.push(report.bytes / MiB / ((commit - prepare) / 1000));
        }
        movingStallMs = Math.max(movingStallMs, delay.max / 1e6);
        delay.disable();
        await load.stop();
        const quiet = load.latencies['quiet'] ?? [];
        const label = size >= MiB ? `${size / MiB} MiB` : `${size} B`;
        const pre = pauses['pre-copy'];
        const stop = pauses['stop-and-copy'];
        const rows = [
          benchResult({ case: `${label} state`, metric: 'pause (median)', value: median(pre), unit: 'ms', baseline: 'stop-and-copy', baselineValue: median(stop), better: 'lower' }),
          // With fewer than 100 pre-copy moves the p99 is the max (the longest of the run's pauses).
          benchResult({ case: `${label} state`, metric: 'pre-copy pause p99', value: p99(pre), unit: 'ms', baseline: 'stop-and-copy p99', baselineValue: p99(stop), better: 'lower' }),
          benchResult({ case: `${label} state`, metric: 'pre-copy pause max', value: maxOf(pre), unit: 'ms', baseline: 'stop-and-copy max', baselineValue: maxOf(stop), better: 'lower' }),
          benchResult({ case: `${label} state`, metric: 'transfer rate', value: median(rates), unit: 'MiB/s', baseline: 'raw ws bulk', baselineValue: median(raws.masked) }),
          benchResult({ case: `${label} state`, metric: 'transfer rate, zero-mask baseline', value: median(rates), unit: 'MiB/s', baseline: 'raw ws bulk, zero masks', baselineValue: median(raws.zero) }),
          benchResult({ case: `${label} state`, metric: 'ask p99, pre-copy moves', value: p99(load.latencies['pre-copy'] ?? []), unit: 'ms', baseline: 'same load, no migration', baselineValue: p99(quiet), better: 'lower' }),
          benchResult({ case: `${label} state`, metric: 'ask p99, stop-and-copy moves', value: p99(load.latencies['stop-and-copy'] ?? []), unit: 'ms', baseline: 'same load, no migration', baselineValue: p99(quiet), better: 'lower' }),
          benchResult({ case: `${label} state`, metric: 'longest loop stall, moving', value: movingStallMs, unit: 'ms', baseline: 'quiet second before', baselineValue: quietStallMs, better: 'lower' }),
          benchResult({ case: `${label} state`, metric: 'asks lost', value: load.lost, unit: 'asks', baseline: 'must be 0', baselineValue: 0, better: 'lower' }),
        ];
        // A run narrowed to one mode leaves out what only the other mode measures.
        const skipped = (metric: string) => (!modes.includes('stop-and-copy') && (metric.startsWith('transfer rate') || metric.includes('stop-and-copy'))) || (!modes.includes('pre-copy') && metric.includes('pre-copy'));
        results.push(...rows.filter((r) => !skipped(r.metric)));
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
