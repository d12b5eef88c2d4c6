/**
 * The standard PlanetLab consolidation set-up (Beloglazov & Buyya 2012, CloudSim's
 * power/planetlab examples; see ../shared/data/planetlab/README.md): 800 hosts alternating HP
 * ML110 G4 / G5, four VM types in contiguous quarters of the (sorted) trace file list, 300 s
 * interval over one day, migrations at 62.5 MB/s with 10 % degradation.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readPlanetLab } from '../devices/traces.js';
import { InvalidArgumentError } from '../errors.js';
import { POWER_G4, POWER_G5 } from './power.js';
import type { SimHostSpec, SimSetup, SimWorkload } from './types.js';

export const PLANETLAB_INTERVAL_MS = 300_000;
export const PLANETLAB_STEPS = 288;
export const PLANETLAB_HOSTS = 800;
export const PLANETLAB_MIGRATION_MBPS = 62.5;
export const PLANETLAB_DEGRADATION = 0.1;
/** VM types (MIPS, RAM MB), assigned to contiguous quarters of the VM list. */
export const PLANETLAB_VM_TYPES = [
  { mips: 2500, ramMb: 870 },
  { mips: 2000, ramMb: 1740 },
  { mips: 1000, ramMb: 1740 },
  { mips: 500, ramMb: 613 },
] as const;

/** `count` hosts alternating G4 (2 x 1860 MIPS) and G5 (2 x 2660 MIPS), 4096 MB each. */
export function planetlabHosts(count = PLANETLAB_HOSTS): SimHostSpec[] {
  return Array.from({ length: count }, (_, i) =>
    i % 2 === 0
      ? { id: `g4-${i}`, coreMips: 1860, cores: 2, ramMb: 4096, power: POWER_G4 }
      : { id: `g5-${i}`, coreMips: 2660, cores: 2, ramMb: 4096, power: POWER_G5 },
  );
}

/** Builds a workload from per-VM CPU % series (one per VM, sampled every interval) with PlanetLab's VM types. */
export function planetlabWorkload(name: string, vmIds: readonly string[], percent: ReadonlyArray<ArrayLike<number>>, steps = PLANETLAB_STEPS): SimWorkload {
  const n = vmIds.length;
  const quarter = Math.max(1, Math.ceil(n / PLANETLAB_VM_TYPES.length));
  const vmMips = new Float64Array(n);
  const vmRamMb = new Float64Array(n);
  const demand = new Float64Array(n * (steps + 1));
  for (let v = 0; v < n; v++) {
    const type = PLANETLAB_VM_TYPES[Math.min(Math.floor(v / quarter), PLANETLAB_VM_TYPES.length - 1)] ?? PLANETLAB_VM_TYPES[0];
    vmMips[v] = type.mips;
    vmRamMb[v] = type.ramMb;
    const series = percent[v] ?? [];
    let last = 0;
    for (let k = 0; k <= steps; k++) {
      const x = k < series.length ? (series[k] ?? last) : last;
      last = x;
      demand[v * (steps + 1) + k] = Math.min(Math.max(x / 100, 0), 1);
    }
  }
  return { name, intervalMs: PLANETLAB_INTERVAL_MS, steps, vmIds, vmMips, vmRamMb, demand };
}

export interface PlanetLabOptions {
  /** Number of hosts (default 800). */
  hosts?: number;
  /** Use only the first N VMs of the sorted file list (default all). */
  maxVms?: number;
}

/** Reads one day (a folder of per-VM files, names sorted by code point) into the standard set-up. */
export async function loadPlanetLabDay(dir: string, options: PlanetLabOptions = {}): Promise<SimSetup> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new InvalidArgumentError('trace', `${dir} is not a folder of PlanetLab traces`);
  let names = (await readdir(dir)).filter((n) => !n.startsWith('.') && n !== 'README.md').sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (options.maxVms !== undefined) names = names.slice(0, options.maxVms);
  const series = await Promise.all(names.map((n) => readPlanetLab(path.join(dir, n), { onBadLine: 'skip' })));
  return planetlabSetup(path.basename(dir), planetlabWorkload(path.basename(dir), names, series.map((s) => s.values)), options.hosts);
}

export function planetlabSetup(name: string, workload: SimWorkload, hosts = PLANETLAB_HOSTS): SimSetup {
  return {
    name,
    hosts: planetlabHosts(hosts),
    workload,
    migrationMBps: PLANETLAB_MIGRATION_MBPS,
    migrationDegradation: PLANETLAB_DEGRADATION,
    enforceRam: false,
  };
}
