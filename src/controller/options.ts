/** The migration controller's settings: every field with its default and unit. */
import { InvalidArgumentError } from '../errors.js';

export const ControllerModes = ['off', 'recommend', 'auto'] as const;
export type ControllerMode = (typeof ControllerModes)[number];

export interface PolicyOptions {
  /** `predictive` uses forecasts (P90 to stay, P50 to move); `reactive` uses the current load only (default `predictive`). */
  policy?: 'predictive' | 'reactive';
  /** Horizon the costs are summed over, ms (default 30,000). */
  horizonMs?: number;
  /** Move when the total cost is below this, service-seconds (default 0). */
  migrationThreshold?: number;
  /** Extra margin a move must clear below the threshold, service-seconds per unit of task value (default 0.5). */
  hysteresis?: number;
  /** Utilization above which a task is short of service (default 0.9; 1 = only demand above capacity). */
  safeUtilization?: number;
  /** Predicted pause of a live migration, ms (default 10). */
  pauseMs?: number;
  /** Share of service a task loses while its state copies (default 0.1). */
  preCopySlowdown?: number;
  /** Service-seconds charged per second of link time (default 0.1). */
  transferWeight?: number;
  /** Service-seconds per unit of soft affinity score (default 1). */
  affinityWeight?: number;
  /** A resource whose failure probability within the horizon reaches this is evacuated (default 0.5). */
  failureThreshold?: number;
  /** Candidates scored per task; beyond it they are sampled (least loaded first, then random) (default 32). */
  maxCandidates?: number;
  /** A task is not moved again within this, ms (default 30,000). */
  cooldownMs?: number;
  /** A task does not go back to a resource it left within this, ms (default 120,000). */
  pingPongMs?: number;
  /** Moves started per minute, cluster-wide (default 30; Infinity: no budget). */
  movesPerMinute?: number;
  /** Moves per minute into or out of one resource (default 10; Infinity: no budget). */
  movesPerResourcePerMinute?: number;
  /** Migrations in flight at once (default 4). */
  maxConcurrent?: number;
  /** Pack tasks onto fewer resources when predicted load allows, and idle the emptied ones (default false). */
  powerAware?: boolean;
  /** Power-aware: a resource is packed into others only if they stay under this utilization (P90) (default 0.7). */
  packUtilization?: number;
  /** Power-aware: wake an idle resource when the active ones' P90 utilization passes this (default 0.85). */
  wakeUtilization?: number;
  /** Power-aware: stop trying to pack (lightest resources first) after this many in a row could not be emptied (default 16). */
  maxPackFailures?: number;
  /** Power-aware: service-seconds per watt-hour saved or spent (default 1). */
  energyWeightPerWh?: number;
  /** Seed of the candidate sampling (default 1). */
  seed?: number;
}

export type ResolvedPolicy = Required<PolicyOptions>;

export const defaultPolicy: ResolvedPolicy = {
  policy: 'predictive',
  horizonMs: 30_000,
  migrationThreshold: 0,
  hysteresis: 0.5,
  safeUtilization: 0.9,
  pauseMs: 10,
  preCopySlowdown: 0.1,
  transferWeight: 0.1,
  affinityWeight: 1,
  failureThreshold: 0.5,
  maxCandidates: 32,
  cooldownMs: 30_000,
  pingPongMs: 120_000,
  movesPerMinute: 30,
  movesPerResourcePerMinute: 10,
  maxConcurrent: 4,
  powerAware: false,
  packUtilization: 0.7,
  wakeUtilization: 0.85,
  maxPackFailures: 16,
  energyWeightPerWh: 1,
  seed: 1,
};

const nonNegative = ['horizonMs', 'hysteresis', 'pauseMs', 'preCopySlowdown', 'transferWeight', 'affinityWeight', 'cooldownMs', 'pingPongMs', 'movesPerMinute', 'movesPerResourcePerMinute', 'energyWeightPerWh'] as const;
const fractions = ['safeUtilization', 'failureThreshold', 'packUtilization', 'wakeUtilization'] as const;

export function resolvePolicy(o: PolicyOptions | undefined, where = 'controller'): ResolvedPolicy {
  const p: ResolvedPolicy = { ...defaultPolicy };
  for (const [k, v] of Object.entries(o ?? {})) if (v !== undefined) (p as unknown as Record<string, unknown>)[k] = v;
  if (p.policy !== 'predictive' && p.policy !== 'reactive') throw new InvalidArgumentError(`${where}.policy`, `must be predictive or reactive, got ${String(p.policy)}`);
  for (const k of nonNegative) if (!(typeof p[k] === 'number' && p[k] >= 0)) throw new InvalidArgumentError(`${where}.${k}`, `must be a number >= 0, got ${String(p[k])}`);
  for (const k of fractions) if (!(typeof p[k] === 'number' && p[k] > 0 && p[k] <= 1)) throw new InvalidArgumentError(`${where}.${k}`, `must be in (0, 1], got ${String(p[k])}`);
  if (!(p.horizonMs > 0)) throw new InvalidArgumentError(`${where}.horizonMs`, 'must be positive');
  if (!Number.isFinite(p.migrationThreshold)) throw new InvalidArgumentError(`${where}.migrationThreshold`, 'must be a finite number');
  if (!(Number.isInteger(p.maxCandidates) && p.maxCandidates >= 1)) throw new InvalidArgumentError(`${where}.maxCandidates`, 'must be an integer >= 1');
  if (!(p.maxPackFailures >= 1)) throw new InvalidArgumentError(`${where}.maxPackFailures`, 'must be >= 1 (Infinity: try every resource)');
  if (!(p.maxConcurrent >= 1)) throw new InvalidArgumentError(`${where}.maxConcurrent`, 'must be >= 1 (Infinity: no limit)');
  return p;
}
