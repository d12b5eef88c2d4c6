/**
 * Turns what the runtime reports (resource rows with their latest metrics, task rows with their
 * counters, task definitions) into the controller's `ClusterView`. A task's demand is its
 * declared compute units (`demand.computeUnits`, default 1), never more than its share of what
 * its resource measures: the rest of a resource's load is not the task's and does not move with
 * it. Its value is its request rate (at least 1), so costs count requests affected.
 */
import type { AnyTaskDefinition } from '../actors/task.js';
import type { DeviceKind } from '../devices/device.js';
import type { DebugResource, DebugTask } from '../runtime/debug-source.js';
import { deviceOf } from '../runtime/cluster/candidates.js';
import type { ForecastSource } from './forecasts.js';
import type { ClusterView, ResourceView, TaskView } from './model.js';

export interface ViewInput {
  nowMs: number;
  resources: readonly DebugResource[];
  tasks: readonly DebugTask[];
  definition(task: string): AnyTaskDefinition | undefined;
  forecasts: ForecastSource;
  horizonMs: number;
  /** `processed` of each task at the previous tick, and when that was. */
  previous: { atMs: number; processed: ReadonlyMap<string, number> } | undefined;
  moving: ReadonlySet<string>;
  inFlight: number;
  linkBytesPerS: number;
  /** Take failure probabilities from the forecasts (false for a reactive policy: it acts on what has happened). */
  failureForecasts?: boolean;
}

export function buildView(input: ViewInput): ClusterView {
  const elapsedS = input.previous ? Math.max(1e-3, (input.nowMs - input.previous.atMs) / 1000) : 0;
  const rateOf = new Map<string, number>();
  for (const t of input.tasks) {
    const before = input.previous?.processed.get(t.id);
    rateOf.set(t.id, before === undefined || elapsedS === 0 ? 0 : Math.max(0, t.processed - before) / elapsedS);
  }
  const resources: ResourceView[] = input.resources.map((r) => {
    const load = typeof r.metrics?.['utilization'] === 'number' ? r.metrics['utilization'] : r.utilization;
    const f = input.forecasts.utilization(r.id, input.horizonMs);
    return {
      id: r.id,
      node: r.node,
      device: deviceOf(r),
      up: r.status !== 'failed',
      draining: r.status === 'draining',
      idle: r.powerState === 'idle',
      load,
      forecast: f ? { p50: f.p50, p90: f.p90 } : { p50: load, p90: load },
      failureProbability: r.status === 'failed' ? 1 : input.failureForecasts === false ? 0 : input.forecasts.failureProbability(r.id, input.horizonMs),
      usedComputeUnits: r.used.computeUnits,
      usedMemoryBytes: r.used.memoryBytes,
    };
  });
  const byId = new Map(resources.map((r) => [r.id, r]));
  const onResource = new Map<string, DebugTask[]>();
  for (const t of input.tasks) {
    const list = onResource.get(t.resource);
    if (list) list.push(t);
    else onResource.set(t.resource, [t]);
  }
  const tasks: TaskView[] = [];
  for (const [resource, list] of onResource) {
    const r = byId.get(resource);
    if (!r) continue;
    const unitsOf = (t: DebugTask) => input.definition(t.task)?.demand?.computeUnits ?? 1;
    const unitSum = list.reduce((s, t) => s + unitsOf(t), 0);
    for (const t of list) {
      const def = input.definition(t.task);
      const rate = rateOf.get(t.id) ?? 0;
      const measured = unitSum > 0 ? (r.load * r.device.computeUnits * unitsOf(t)) / unitSum : 0;
      const view: TaskView = {
        id: t.id,
        task: t.task,
        resource,
        demand: Math.min(unitsOf(t), measured),
        computeUnits: unitsOf(t),
        memoryBytes: def?.demand?.memoryBytes ?? 0,
        stateBytes: t.stateBytes ?? 0,
        value: Math.max(1, rate),
        immovable: def?.immovable ?? false,
        moveCost: def?.moveCost ?? 0,
        moving: input.moving.has(t.id) || t.status !== 'running',
        ...(t.affinity ?? def?.affinity ? { affinity: (t.affinity ?? def?.affinity)! } : {}),
        ...(def?.kernels ? { kernelKinds: Object.keys(def.kernels) as DeviceKind[] } : {}),
        ...(t.parent !== null ? { parent: t.parent } : {}),
      };
      tasks.push(view);
    }
  }
  return { nowMs: input.nowMs, resources, tasks, linkBytesPerS: input.linkBytesPerS, inFlight: input.inFlight };
}
