/**
 * The simulator's data model and the policy contract. A policy sees the cluster through a
 * read-only `SimView` (hosts and VMs by dense integer index, so a policy over 10 000 hosts
 * allocates nothing per query) and answers with migrations; the engine applies them, charges
 * their time and degradation, and keeps the books (energy, SLA).
 */
import type { PowerTable } from './power.js';

export interface SimHostSpec {
  readonly id: string;
  /** MIPS of one core. */
  readonly coreMips: number;
  readonly cores: number;
  readonly ramMb: number;
  /** Watts at 0, 10, ..., 100 % CPU. */
  readonly power: PowerTable;
}

/** VMs and their CPU demand over time, sampled every `intervalMs`. */
export interface SimWorkload {
  readonly name: string;
  readonly intervalMs: number;
  /** Number of intervals simulated (one day of PlanetLab: 288). */
  readonly steps: number;
  readonly vmIds: readonly string[];
  /** MIPS of each VM (one core each). */
  readonly vmMips: Float64Array;
  readonly vmRamMb: Float64Array;
  /**
   * Demand as a fraction (0..1) of the VM's MIPS, row-major: `demand[v * (steps + 1) + k]` is the
   * sample at the start of interval k; sample `steps` repeats the last one (CloudSim does so).
   * Between samples the demand is linear.
   */
  readonly demand: Float64Array;
}

export interface SimSetup {
  readonly name: string;
  readonly hosts: readonly SimHostSpec[];
  readonly workload: SimWorkload;
  /** Migration bandwidth in MB/s (PlanetLab set-up: half of 1 Gbit/s = 62.5). */
  readonly migrationMBps: number;
  /** Share of its demand a VM loses while it migrates (0.1); the target reserves the same share. */
  readonly migrationDegradation: number;
  /**
   * Whether a host's RAM limits placement. The PlanetLab set-up does not (false): CloudSim's VMs
   * request no RAM once started (their cloudlets' RAM model is null), so RAM only sets the
   * migration time there.
   */
  readonly enforceRam: boolean;
}

/** Read-only view of the cluster at a decision time. Hosts `0..hostCount-1`, VMs `0..vmCount-1`. */
export interface SimView {
  /** Index of the interval that starts now (decisions happen at its start). */
  readonly step: number;
  readonly nowMs: number;
  readonly intervalMs: number;
  readonly hostCount: number;
  readonly vmCount: number;
  /** Whether host RAM limits placement (see `SimSetup.enforceRam`). */
  readonly enforceRam: boolean;
  hostId(h: number): string;
  /** Total MIPS (cores x core MIPS). */
  hostMips(h: number): number;
  hostCoreMips(h: number): number;
  hostCores(h: number): number;
  hostRamMb(h: number): number;
  hostPower(h: number): PowerTable;
  /** VMs placed on the host (a VM migrating away still counts here until its migration ends). */
  hostVms(h: number): readonly number[];
  /** Requested MIPS of the host's VMs / host MIPS, now (may exceed 1). */
  hostUtilisation(h: number): number;
  /** A host with zero load is switched off. */
  hostActive(h: number): boolean;
  /**
   * Host load history as CloudSim keeps it: the sum over the host's current VMs of their demand
   * history x VM MIPS / host MIPS; `out[0]` is now, `out[1]` one interval ago, ...; returns the
   * number of values written (at most `out.length`, at most step + 1).
   */
  hostUtilisationHistory(h: number, out: Float64Array): number;
  vmId(v: number): string;
  vmMips(v: number): number;
  vmRamMb(v: number): number;
  /** Host the VM runs on (the source while it migrates); -1 if it was never placed. */
  vmHost(v: number): number;
  /** Target host of a migration in progress, or -1. */
  vmTarget(v: number): number;
  vmMigrating(v: number): boolean;
  /** Demand now, MIPS. */
  vmDemandMips(v: number): number;
  /** Demand as a fraction of the VM's MIPS `ago` intervals before now (0 = now); NaN before the start. */
  vmDemandAt(v: number, ago: number): number;
  /** How long migrating the VM takes, s (RAM / bandwidth). */
  migrationSeconds(v: number): number;
}

export interface SimMigration {
  readonly vm: number;
  readonly target: number;
}

/** Energy accounting: `dynamic` (power table, idle hosts off) or `max-power` (every host at full power all day: NPA). */
export type EnergyModel = 'dynamic' | 'max-power';

export interface SimPolicy {
  readonly name: string;
  /** Host of each VM at time 0 (-1: leave unplaced). Default: `pabfd` of all VMs by their first demand sample. */
  initialPlacement?(view: SimView): Int32Array;
  /** Called at the start of every interval after the first; returns the migrations to start now. */
  decide(view: SimView, nowMs: number): readonly SimMigration[];
  readonly energyModel?: EnergyModel;
  /** Policy-specific numbers for the report (e.g. forecast error), read after the run. */
  stats?(): Record<string, number>;
}
