/**
 * `godwit`: the runtime's own migration controller (`planTick`, the same code the controller
 * actor runs) driving the simulated data centre. Each interval:
 *   - every VM's demand feeds its `ForecastSelector`; a VM's forecast (P50, P90) is the worst of
 *     its forecasts over the next `horizonSteps` intervals, in MIPS;
 *   - hosts become `ResourceView`s (capacity = MIPS, power table, utilization now, forecast P50 =
 *     the sum of their VMs' P50s / MIPS, P90 = that plus the VMs' spreads (P90 - P50) added in
 *     quadrature; a switched-off host is idle), VMs `TaskView`s (demand
 *     and reservation in MIPS, state = RAM, link = the set-up's migration bandwidth);
 *   - `planTick` in power-aware mode decides: relieve hosts predicted to overload, pack lightly
 *     loaded hosts into others; its moves become the simulator's migrations.
 * Initial placement is PABFD, as for every baseline.
 */
import { Damper } from '../../controller/damping.js';
import type { ClusterView, ResourceView, TaskView } from '../../controller/model.js';
import { resolvePolicy, type PolicyOptions } from '../../controller/options.js';
import { planTick } from '../../controller/plan.js';
import { simulatedDevice } from '../../devices/simulated.js';
import { VmForecasts } from '../vm-forecasts.js';
import { initialPabfd } from './baselines.js';
import type { SimMigration, SimPolicy, SimView } from '../types.js';

export interface GodwitPolicyOptions extends PolicyOptions {
  /** Intervals ahead the forecasts look (default 1). */
  horizonSteps?: number;
  /** Scored forecasts per model kept for MASE and the bands (default 48: four hours). */
  windowSize?: number;
}

/**
 * The controller settings for a 300 s consolidation interval (overridable). Chosen from a handful
 * of settings tried on the three PlanetLab days in ../shared/data (see docs/simulator.md): the
 * figures reported with them are in-sample.
 */
export const godwitSimDefaults: PolicyOptions = {
  safeUtilization: 0.97,
  powerAware: true,
  packUtilization: 0.78,
  wakeUtilization: 0.9,
  movesPerMinute: Infinity,
  movesPerResourcePerMinute: Infinity,
  maxConcurrent: Infinity,
  maxCandidates: 64,
  hysteresis: 0.5,
  pauseMs: 0,
  transferWeight: 0.1,
  // One watt-hour is worth 30 service-seconds: switching a host off pays for about two VM moves.
  energyWeightPerWh: 30,
  maxPackFailures: 32,
};

function clusterView(view: SimView, f: VmForecasts): ClusterView {
  const resources: ResourceView[] = [];
  const tasks: TaskView[] = [];
  let inFlight = 0;
  for (let h = 0; h < view.hostCount; h++) {
    const mips = view.hostMips(h);
    const table = view.hostPower(h);
    let p50 = 0;
    let spread2 = 0;
    let used = 0;
    let ram = 0;
    for (const v of view.hostVms(h)) {
      p50 += f.p50[v] ?? 0;
      const spread = (f.p90[v] ?? 0) - (f.p50[v] ?? 0);
      spread2 += spread * spread;
      used += view.vmDemandMips(v);
      ram += view.vmRamMb(v);
    }
    const id = view.hostId(h);
    resources.push({
      id,
      device: simulatedDevice({
        id,
        kind: 'cpu',
        computeUnits: mips,
        memoryBytes: view.enforceRam ? view.hostRamMb(h) * 1e6 : Number.MAX_SAFE_INTEGER,
        power: { idleW: table[0] ?? 0, peakW: table.at(-1) ?? 0 },
      }),
      powerTableW: table,
      up: true,
      draining: false,
      idle: !view.hostActive(h),
      load: view.hostUtilisation(h),
      // Independent errors: the host's spread is the VMs' spreads added in quadrature.
      forecast: { p50: p50 / mips, p90: (p50 + Math.sqrt(spread2)) / mips },
      failureProbability: 0,
      usedComputeUnits: used,
      usedMemoryBytes: view.enforceRam ? ram * 1e6 : 0,
    });
  }
  for (let v = 0; v < view.vmCount; v++) {
    const h = view.vmHost(v);
    if (h < 0) continue;
    const moving = view.vmMigrating(v);
    if (moving) inFlight++;
    const demand = view.vmDemandMips(v);
    tasks.push({
      id: view.vmId(v),
      task: 'vm',
      resource: view.hostId(h),
      demand,
      demandForecast: { p50: f.p50[v] ?? demand, p90: f.p90[v] ?? demand },
      computeUnits: demand,
      memoryBytes: view.enforceRam ? view.vmRamMb(v) * 1e6 : 0,
      stateBytes: view.vmRamMb(v) * 1e6,
      moving,
    });
  }
  return { nowMs: view.nowMs, resources, tasks, linkBytesPerS: (view.vmRamMb(0) * 1e6) / Math.max(view.migrationSeconds(0), 1e-9), inFlight };
}

export function createGodwitPolicy(options: GodwitPolicyOptions = {}): SimPolicy {
  const { horizonSteps = 1, windowSize = 48, ...controller } = options;
  const horizons = Array.from({ length: horizonSteps }, (_, i) => i + 1);
  let forecasts: VmForecasts | undefined;
  let damper: Damper | undefined;
  let policy: ReturnType<typeof resolvePolicy> | undefined;
  const hostIndex = new Map<string, number>();
  const vmIndex = new Map<string, number>();
  const counts = { move: 0, pack: 0, evacuate: 0 };

  const observe = (view: SimView): VmForecasts => {
    forecasts ??= new VmForecasts(view.vmCount, horizons, windowSize);
    forecasts.observe(view);
    return forecasts;
  };

  return {
    name: 'godwit',
    initialPlacement(view) {
      observe(view);
      for (let h = 0; h < view.hostCount; h++) hostIndex.set(view.hostId(h), h);
      for (let v = 0; v < view.vmCount; v++) vmIndex.set(view.vmId(v), v);
      policy = resolvePolicy({ horizonMs: view.intervalMs * horizonSteps, cooldownMs: view.intervalMs, pingPongMs: 3 * view.intervalMs, ...godwitSimDefaults, ...controller }, 'godwit');
      damper = new Damper(policy);
      return initialPabfd(view);
    },
    decide(view) {
      const f = observe(view);
      const { decisions } = planTick(clusterView(view, f), policy!, damper!);
      const out: SimMigration[] = [];
      for (const d of decisions) {
        if ((d.action !== 'move' && d.action !== 'evacuate' && d.action !== 'pack') || d.task === null || d.to === null) continue;
        const vm = vmIndex.get(d.task);
        const target = hostIndex.get(d.to);
        if (vm === undefined || target === undefined) continue;
        out.push({ vm, target });
        counts[d.action]++;
      }
      return out;
    },
    stats: () => ({ reliefMoves: counts.move, packMoves: counts.pack, ...(forecasts?.stats() ?? {}) }),
  };
}
