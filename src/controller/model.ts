/**
 * What the migration controller decides from (a `ClusterView`: resources with their forecasts,
 * tasks with their load and size) and what it decides (`Decision`s with the cost terms behind
 * them). The same types serve the runtime's controller actor and the trace-driven simulator, so
 * both run one policy.
 *
 * Units: loads are utilizations of a resource (0..1, above 1 when demand exceeds capacity);
 * task demand is in the resource's compute units; costs are in *service-seconds*: one second of
 * one task's full service lost (weighted by the task's `value`).
 */
import type { Device, DeviceKind } from '../devices/device.js';
import type { Affinity } from '../runtime/placement.js';

export interface Quantiles {
  p50: number;
  p90: number;
}

export interface ResourceView {
  readonly id: string;
  /** Kind, labels, capabilities, capacity and power model (affinity is matched against it). */
  readonly device: Device;
  readonly node?: string;
  readonly up: boolean;
  readonly draining: boolean;
  /** Powered down by power-aware mode: takes no task until woken. */
  readonly idle: boolean;
  /** Utilization now (0..1, more when demand exceeds capacity). */
  readonly load: number;
  /** Utilization forecast at the controller's horizon. */
  readonly forecast: Quantiles;
  /** Probability the resource fails within the horizon (0..1). */
  readonly failureProbability: number;
  /** Compute units and memory reserved by the tasks placed on it. */
  readonly usedComputeUnits: number;
  readonly usedMemoryBytes: number;
  /** Watts at 0, 10, ..., 100 % utilization (linear between); default: the device's idle..peak line. */
  readonly powerTableW?: readonly number[];
}

export interface TaskView {
  readonly id: string;
  /** Task definition name. */
  readonly task: string;
  readonly resource: string;
  /** Compute units of its resource it uses now (its share of the resource's load). */
  readonly demand: number;
  /** Forecast of `demand` at the horizon (default: `demand`). */
  readonly demandForecast?: Quantiles;
  /** Reservation used by hard capacity checks. */
  readonly computeUnits: number;
  readonly memoryBytes: number;
  /** Bytes to copy when it moves (its snapshot, or RAM for a VM). */
  readonly stateBytes: number;
  /** Weight of one second of its service (default 1). */
  readonly value?: number;
  readonly immovable?: boolean;
  /** Task-declared extra cost of moving it, service-seconds. */
  readonly moveCost?: number;
  readonly affinity?: Affinity;
  /** Kinds it has kernels for (undefined: runs anywhere). */
  readonly kernelKinds?: readonly DeviceKind[];
  /** Children move with their parent: the controller moves top-level tasks only. */
  readonly parent?: string;
  /** A migration of it is in flight. */
  readonly moving?: boolean;
}

export interface ClusterView {
  readonly nowMs: number;
  readonly resources: readonly ResourceView[];
  readonly tasks: readonly TaskView[];
  /** Measured transfer bandwidth between resources, bytes per second. */
  readonly linkBytesPerS: number;
  /** Migrations in flight now. */
  readonly inFlight: number;
}

export interface CostTerms {
  /** Predicted pause plus pre-copy slowdown of the moving task. */
  degradation: number;
  /** Link time of the copy, weighted by `transferWeight`. */
  transfer: number;
  /** Predicted slowdown of the tasks already on the target. */
  disruption: number;
  /** Energy over the horizon (power-aware mode only), weighted by `energyWeightPerWh`. */
  energy: number;
  /** The task's declared `moveCost`. */
  moveCost: number;
  /** Change in soft-affinity score, weighted by `affinityWeight` (negative: the target is preferred). */
  affinity: number;
  /** Predicted improvement over the horizon: risk of staying (P90) minus risk after moving (P50), own and neighbours'. */
  gain: number;
  /** degradation + transfer + disruption + energy + moveCost + affinity - gain. */
  total: number;
}

export const DecisionActions = ['move', 'evacuate', 'pack', 'stay', 'unplaceable', 'idle', 'wake'] as const;
export type DecisionAction = (typeof DecisionActions)[number];

export interface Decision {
  atMs: number;
  /** The task, or null for a decision about a resource (`idle`, `wake`). */
  task: string | null;
  /** The task's resource (or the resource idled / woken). */
  resource: string;
  /** The chosen target, if any was found. */
  to: string | null;
  action: DecisionAction;
  /**
   * Why. For a move: `predicted-overload`, `predicted-failure` (evacuation), `failure-risk` (the risk of
   * staying, below the evacuation threshold, outweighs the move), `affinity`, `power-pack`, `gain`.
   * For a stay: `no-gain`, `above-threshold`, `cooldown`, `ping-pong`, `budget`, `resource-budget`,
   * `max-concurrent`, `immovable`, `no-candidate`. For unplaceable: the binding constraint.
   */
  reason: string;
  terms: CostTerms | null;
  /** Move when `terms.total < threshold - hysteresis`. */
  threshold: number;
  /** Set by the controller: the move was started (false in recommend mode or when blocked). */
  executed: boolean;
}
