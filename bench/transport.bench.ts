/**
 * One-way small-message throughput between two node processes through godwit (a task on a
 * child agent process, messages from this process), beside raw ws sending one cbor-x encoded
 * message per frame to a bare server in another child process; plus ask round-trip latency.
 */
import { fileURLToPath } from 'node:url';
import { createRuntime, type Runtime, type TaskRef } from '../src/index.js';
import { cborEncode } from '../src/codecs/cbor.js';
import { connectRawSink } from './raw-sink-client.js';
import { type Bench, type BenchResult, benchResult, median, sendInBursts } from './report.js';
import { sink } from './fixtures/sink-tasks.js';
import { startChild, stopChild } from './children.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const sinkTasks = fileURLToPath(new URL('./fixtures/sink-tasks.js', import.meta.url));
const rawSink = fileURLToPath(new URL('./fixtures/raw-ws-sink.js', import.meta.url));
const SECRET = 'transport-bench-secret';
const BURST = 5000;

async function godwitOneWay(rt: Runtime, ref: TaskRef, count: number): Promise<number> {
  const before = await rt.ask<number>(ref, { t: 'count' }, { timeoutMs: 60_000 });
  const msg = { t: 'm', n: 1 };
  const t0 = performance.now();
  await sendInBursts(count, BURST, () => rt.send(ref, msg));
  const after = await rt.ask<number>(ref, { t: 'count' }, { timeoutMs: 60_000 });
  const seconds = (performance.now() - t0) / 1000;
  if (after - before !== count) throw new Error(`sink counted ${after - before} of ${count}`);
  return count / seconds;
}

async function rawOneWay(url: string, count: number): Promise<number> {
  const sink = await connectRawSink(url);
  const before = await sink.read('count');
  const t0 = performance.now();
  await sendInBursts(count, BURST, () => sink.socket.send(cborEncode([0, 'sink', { t: 'm', n: 1 }])));
  const after = await sink.read('count');
  const seconds = (performance.now() - t0) / 1000;
  sink.close();
  if (after - before !== count) throw new Error(`raw sink counted ${after - before} of ${count}`);
  return count / seconds;
}

async function askLatencies(rt: Runtime, ref: TaskRef, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await rt.ask(ref, { t: 'ping' });
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export const bench: Bench = {
  name: 'transport',
  description: 'one-way small messages/s between two node processes vs raw ws (one cbor message per frame); ask round trip',
  async run({ quick }) {
    const count = quick ? 20_000 : 500_000;
    const rounds = quick ? 1 : 3;
    const rt = createRuntime({ name: 'bench-sender', rms: true, auth: { secret: SECRET }, devices: [], logger: { level: 'error' } });
    await rt.ready;
    const agent = await startChild([cli, 'agent', '--join', rt.url!, '--name', 'bench-receiver', '--secret', SECRET, '--devices', 'cpu', '--tasks', sinkTasks, '--json', '--log-level', 'error']);
    const raw = await startChild([rawSink]);
    try {
      const joined = new Promise<void>((resolve) => {
        if (rt.nodes().length >= 2) resolve();
        const sub = rt.observe(() => {
          if (rt.nodes().length >= 2) {
            sub.unsubscribe();
            resolve();
          }
        }, ['node.joined']);
      });
      await joined;
      const ref = rt.spawn(sink, { id: 'sink' });
      await rt.ask(ref, { t: 'count' }, { timeoutMs: 10_000 });
      // Latency first, unloaded (before the throughput rounds leave garbage to collect), after a
      // warm-up so the JIT has compiled the path being measured.
      await askLatencies(rt, ref, quick ? 100 : 5000);
      const lat = await askLatencies(rt, ref, quick ? 200 : 20_000);
      const g: number[] = [];
      const r: number[] = [];
      for (let i = 0; i < rounds; i++) {
        g.push(await godwitOneWay(rt, ref, count));
        r.push(await rawOneWay(String(raw.info['url']), count));
      }
      const results: BenchResult[] = [
        benchResult({ case: `${count} msgs one-way`, metric: 'throughput', value: median(g), unit: 'msgs/s', baseline: 'raw ws, 1 cbor msg/frame', baselineValue: median(r) }),
        benchResult({ case: 'ask round trip p50 (unloaded)', metric: 'latency', value: pct(lat, 50), unit: 'ms', baseline: 'target 1 ms (p99)', baselineValue: 1, better: 'lower' }),
        benchResult({ case: 'ask round trip p99 (unloaded)', metric: 'latency', value: pct(lat, 99), unit: 'ms', baseline: 'target 1 ms', baselineValue: 1, better: 'lower' }),
      ];
      return results;
    } finally {
      await Promise.all([stopChild(agent.child), stopChild(raw.child)]);
      await rt.shutdown();
    }
  },
};
