/**
 * What one control interval costs: `planTick` over a synthetic cluster (resources with P50/P90
 * forecasts, a tenth of them predicted hot, four tasks a resource), scoring a sample of
 * `maxCandidates` targets per task against scoring every resource (the full scan) in the same
 * run. Medians of several ticks, each on a fresh damper so every tick does the same work.
 */
import { Damper, planTick, resolvePolicy, simulatedDevice, type ClusterView, type PolicyOptions, type ResourceView, type TaskView } from '../src/index.js';
import { type Bench, benchResult, median } from './report.js';

function syntheticView(resources: number, tasksPerResource: number): ClusterView {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const rs: ResourceView[] = [];
  const ts: TaskView[] = [];
  for (let i = 0; i < resources; i++) {
    const id = `r${i}`;
    const hot = i % 10 === 0;
    const p50 = hot ? 0.95 + rand() * 0.3 : 0.2 + rand() * 0.5;
    rs.push({
      id,
      device: simulatedDevice({ id, kind: (['cpu', 'gpu', 'fpga', 'asic'] as const)[i % 4]!, computeUnits: 16, power: { idleW: 80, peakW: 250 } }),
      up: true,
      draining: false,
      idle: false,
      load: p50,
      forecast: { p50, p90: p50 * 1.1 },
      failureProbability: i % 97 === 0 ? 0.8 : 0,
      usedComputeUnits: tasksPerResource,
      usedMemoryBytes: 0,
    });
    for (let k = 0; k < tasksPerResource; k++) ts.push({ id: `t${i}-${k}`, task: 'svc', resource: id, demand: 1 + rand() * 2, computeUnits: 1, memoryBytes: 0, stateBytes: 1e6 + rand() * 1e8, value: 1 + rand() * 10 });
  }
  return { nowMs: 60_000, resources: rs, tasks: ts, linkBytesPerS: 1e9, inFlight: 0 };
}

function tickMs(view: ClusterView, options: PolicyOptions, rounds: number): number {
  const p = resolvePolicy(options);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    planTick(view, p, new Damper(p));
    times.push(performance.now() - t0);
  }
  return median(times);
}

export const bench: Bench = {
  name: 'controller',
  description: 'ms per control interval (planTick): sampled candidates vs scoring every resource',
  async run({ quick }) {
    const sizes = quick ? [100] : [100, 1000, 4000];
    const rounds = quick ? 3 : 7;
    const results = [];
    for (const n of sizes) {
      const view = syntheticView(n, 4);
      const common: PolicyOptions = { movesPerMinute: Infinity, movesPerResourcePerMinute: Infinity, maxConcurrent: Infinity, powerAware: true };
      tickMs(view, common, 1); // warm-up
      const sampled = tickMs(view, { ...common, maxCandidates: 32 }, rounds);
      const full = tickMs(view, { ...common, maxCandidates: n }, rounds);
      results.push(benchResult({ case: `${n} resources, ${n * 4} tasks`, metric: 'tick time', value: sampled, unit: 'ms', baseline: 'full scan', baselineValue: full, better: 'lower' }));
    }
    return results;
  },
};
