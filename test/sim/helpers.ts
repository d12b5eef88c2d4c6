import type { SimHostSpec, SimMigration, SimPolicy, SimSetup, SimView } from '../../src/sim/types.js';

/** Power 100 W idle, +10 W per 10 %: P(u) = 100 + 100 u. */
export const LINEAR_POWER = [100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200];

export function host(id: string, coreMips = 1000, cores = 2): SimHostSpec {
  return { id, coreMips, cores, ramMb: 4096, power: LINEAR_POWER };
}

export interface TestVm {
  mips: number;
  ramMb: number;
  /** One demand fraction per sample (steps + 1 values; short lists repeat their last value). */
  demand: number[];
}

export function setupOf(hosts: SimHostSpec[], vms: TestVm[], steps: number): SimSetup {
  const demand = new Float64Array(vms.length * (steps + 1));
  vms.forEach((vm, v) => {
    for (let k = 0; k <= steps; k++) demand[v * (steps + 1) + k] = vm.demand[Math.min(k, vm.demand.length - 1)] ?? 0;
  });
  return {
    name: 'test',
    hosts,
    workload: {
      name: 'test',
      intervalMs: 300_000,
      steps,
      vmIds: vms.map((_, i) => `vm-${i}`),
      vmMips: Float64Array.from(vms, (v) => v.mips),
      vmRamMb: Float64Array.from(vms, (v) => v.ramMb),
      demand,
    },
    migrationMBps: 62.5,
    migrationDegradation: 0.1,
    enforceRam: false,
  };
}

/** A policy with a fixed time-0 placement and scripted migrations per step. */
export function scripted(placement: number[], moves: Record<number, SimMigration[]> = {}, seen: SimView[] = []): SimPolicy {
  return {
    name: 'scripted',
    initialPlacement: () => Int32Array.from(placement),
    decide: (view) => {
      seen.push(view);
      return moves[view.step] ?? [];
    },
  };
}
