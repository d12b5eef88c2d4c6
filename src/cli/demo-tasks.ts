/**
 * The demo's tasks, loaded by the RMS (which spawns them) and by every demo node (which hosts
 * them): a stateful counter service, a streaming aggregator whose state is Arrow columns (codec
 * `arrow`), and a matrix kernel with cpu and gpu kernels.
 *
 * Contention: a device shared with other work answers more slowly the busier it is. Each request
 * is answered after a delay drawn from an exponential distribution with mean
 * `BASE_SERVICE_MS / (1 - u)` (the M/M/1 response time at utilization `u`, capped at 0.97) where
 * `u` is the hosting device's utilization now, as the node hosting the task reads it from its
 * simulated device (`setDemoLoad`). The task keeps taking messages meanwhile (`deferReply`), so a
 * hot device makes replies slow but loses nothing.
 */
import { defineTask, type TaskContext } from '../index.js';

export const BASE_SERVICE_MS = 2;
const MAX_U = 0.97;

let loadOf: (resourceId: string) => number | undefined = () => undefined;

/** Where the tasks of this process read the utilization of the device they run on. */
export function setDemoLoad(fn: (resourceId: string) => number | undefined): void {
  loadOf = fn;
}

let seed = (process.pid * 2654435761) >>> 0;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Mean answer delay on a device at utilization `u`, ms. */
export function meanServiceMs(u: number): number {
  return BASE_SERVICE_MS / (1 - Math.min(Math.max(u, 0), MAX_U));
}

function answer<R>(ctx: TaskContext<R>, value: R): void {
  const delayMs = -meanServiceMs(loadOf(ctx.resource.id) ?? 0) * Math.log(1 - random());
  if (delayMs < 0.5) {
    ctx.reply(value);
    return;
  }
  const reply = ctx.deferReply();
  ctx.clock.setTimer(() => reply.resolve(value), delayMs);
}

export type CounterMsg = { type: 'hit'; key: number };

/** A stateful counter service: counts hits per key. */
export const counterService = defineTask<Record<number, number>, CounterMsg, number>({
  name: 'counter',
  affinity: { prefer: [{ kind: 'cpu' }] },
  init: () => ({}),
  receive(counts, { key }, ctx) {
    const n = (counts[key] ?? 0) + 1;
    counts[key] = n;
    answer(ctx, n);
    return counts;
  },
});

const WINDOW = 16_384;
export type AggregatorState = { window: { t: Float64Array; v: Float64Array }; meta: Float64Array };
export type AggregatorMsg = { type: 'sample'; value: number };

/** A streaming aggregator: a moving window of samples in Arrow columns, answers the window mean. */
export const aggregator = defineTask<AggregatorState, AggregatorMsg, number>({
  name: 'aggregator',
  codec: 'arrow',
  affinity: { prefer: [{ kind: 'fpga' }, { kind: 'asic' }] },
  init: () => ({ window: { t: new Float64Array(WINDOW), v: new Float64Array(WINDOW) }, meta: new Float64Array(3) }),
  receive(s, { value }, ctx) {
    const meta = s.meta; // [next slot, count, sum]
    const slot = meta[0]!;
    const count = meta[1]!;
    const old = count >= WINDOW ? s.window.v[slot]! : 0;
    s.window.t[slot] = ctx.clock.now();
    s.window.v[slot] = value;
    meta[0] = (slot + 1) % WINDOW;
    meta[1] = Math.min(WINDOW, count + 1);
    meta[2] = meta[2]! - old + value;
    answer(ctx, meta[2]! / meta[1]!);
    return s;
  },
});

const N = 24;
function traceOfSquare(seedValue: number): number {
  let trace = 0;
  for (let i = 0; i < N; i++) for (let k = 0; k < N; k++) trace += (((i * N + k) * 31 + seedValue) % 17) * (((k * N + i) * 31 + seedValue) % 17);
  return trace / 289;
}

export type MatmulMsg = { type: 'multiply'; seed: number };

/** A matrix kernel with a cpu and a gpu implementation (the gpu is 8x faster in its accounting). */
export const matmul = defineTask<{ done: number }, MatmulMsg, number>({
  name: 'matmul',
  affinity: { prefer: [{ kind: 'gpu', weight: 2 }] },
  kernels: { cpu: (x: number) => traceOfSquare(x), gpu: (x: number) => traceOfSquare(x) },
  init: () => ({ done: 0 }),
  receive(s, { seed: x }, ctx) {
    answer(ctx, ctx.kernel<number, number>(x));
    return { done: s.done + 1 };
  },
});

export const demoTasks = [counterService, aggregator, matmul] as const;

/** Where each demo task starts (a soft preference: the controller and supervision may move it) and what the client sends it. */
export const demoLayout = [
  { id: 'counter-1', def: counterService, resource: 'b/cpu-0', message: (seq: number): CounterMsg => ({ type: 'hit', key: seq % 64 }) },
  { id: 'counter-2', def: counterService, resource: 'b/cpu-0', message: (seq: number): CounterMsg => ({ type: 'hit', key: seq % 64 }) },
  { id: 'counter-3', def: counterService, resource: 'c/cpu-0', message: (seq: number): CounterMsg => ({ type: 'hit', key: seq % 64 }) },
  { id: 'aggregator-1', def: aggregator, resource: 'b/fpga-0', message: (seq: number): AggregatorMsg => ({ type: 'sample', value: Math.sin(seq / 50) }) },
  { id: 'aggregator-2', def: aggregator, resource: 'c/asic-0', message: (seq: number): AggregatorMsg => ({ type: 'sample', value: Math.cos(seq / 70) }) },
  { id: 'matmul-1', def: matmul, resource: 'a/gpu-0', message: (seq: number): MatmulMsg => ({ type: 'multiply', seed: seq }) },
  { id: 'matmul-2', def: matmul, resource: 'a/gpu-0', message: (seq: number): MatmulMsg => ({ type: 'multiply', seed: seq + 7 }) },
] as const;
