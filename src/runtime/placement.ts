/**
 * Placement: which resource a task goes to. Hard constraints (`require`, kernels, capacity)
 * filter; soft ones (`prefer`, `avoid`, weighted) score; ties go to the least loaded resource,
 * then to the lowest id, so placement is deterministic.
 */
import { InvalidArgumentError, NoResourceError, type UnmetConstraint } from '../errors.js';
import { type Device, type DeviceKind, isDeviceKind } from '../devices/device.js';

export interface AffinityTerm {
  kind?: DeviceKind;
  /** Every label given must match. */
  labels?: Record<string, string>;
  capability?: string;
  /** A resource id. */
  resource?: string;
  /** Matches a resource that hosts a task of this definition name or TaskId (co-location in `prefer`, anti-affinity in `avoid`). */
  task?: string;
  /** Weight of a soft term (default 1). */
  weight?: number;
}

export interface Affinity {
  /** Hard constraints: a resource failing any is never chosen. */
  require?: {
    kinds?: DeviceKind[];
    /** Least device memory in bytes. */
    minMemoryBytes?: number;
    labels?: Record<string, string>;
    capabilities?: string[];
    /** Only these resource ids. */
    resources?: string[];
    /** Never on a resource that hosts a task of one of these definition names or TaskIds (hard anti-affinity). */
    notWith?: string[];
  };
  /** Soft: each matching term adds its weight. */
  prefer?: AffinityTerm[];
  /** Soft: each matching term subtracts its weight. */
  avoid?: AffinityTerm[];
}

export interface Candidate {
  readonly device: Device;
  readonly up: boolean;
  /** A draining resource takes no new tasks. */
  readonly draining?: boolean;
  /** Powered down by the controller's power-aware mode: takes no new tasks until woken. */
  readonly idle?: boolean;
  readonly usedComputeUnits: number;
  readonly usedMemoryBytes: number;
  /** Whether it hosts a task of this definition name or TaskId (for co-location terms); absent: hosts none. */
  hosts?(nameOrId: string): boolean;
}

/** Answers whether a resource hosts a task of a definition name or TaskId. */
export type HostsTask = (nameOrId: string) => boolean;

export interface PlacementRequest {
  task: string;
  affinity: Affinity | undefined;
  /** Device kinds the task has kernels for; undefined when it has none (runs anywhere). */
  kernelKinds: readonly DeviceKind[] | undefined;
  computeUnits: number;
  memoryBytes: number;
  /** Resource ids not to use (the one a task is leaving). */
  exclude?: ReadonlySet<string>;
}

/** Merges spawn-time affinity over the task's: `require` fields override, soft terms add up. */
export function mergeAffinity(base: Affinity | undefined, over: Affinity | undefined): Affinity | undefined {
  if (!over) return base;
  if (!base) return over;
  return {
    require: { ...base.require, ...over.require },
    prefer: [...(base.prefer ?? []), ...(over.prefer ?? [])],
    avoid: [...(base.avoid ?? []), ...(over.avoid ?? [])],
  };
}

export function validateAffinity(a: Affinity | undefined, where: string): void {
  if (a === undefined) return;
  if (typeof a !== 'object' || a === null) throw new InvalidArgumentError(where, 'must be an object');
  for (const k of a.require?.kinds ?? []) {
    if (!isDeviceKind(k)) throw new InvalidArgumentError(`${where}.require.kinds`, `unknown device kind ${String(k)}`);
  }
  for (const [name, terms] of [['prefer', a.prefer], ['avoid', a.avoid]] as const) {
    for (const t of terms ?? []) {
      if (t.kind !== undefined && !isDeviceKind(t.kind)) throw new InvalidArgumentError(`${where}.${name}`, `unknown device kind ${String(t.kind)}`);
      if (t.weight !== undefined && !(t.weight >= 0)) throw new InvalidArgumentError(`${where}.${name}`, 'weight must be a non-negative number');
    }
  }
}

function matchesLabels(device: Device, labels: Record<string, string> | undefined): boolean {
  if (!labels) return true;
  return Object.entries(labels).every(([k, v]) => device.labels[k] === v);
}

function termMatches(device: Device, t: AffinityTerm, hosts: HostsTask | undefined): boolean {
  return (
    (t.kind === undefined || device.kind === t.kind) &&
    matchesLabels(device, t.labels) &&
    (t.capability === undefined || device.capabilities.includes(t.capability)) &&
    (t.resource === undefined || device.id === t.resource) &&
    (t.task === undefined || (hosts?.(t.task) ?? false))
  );
}

const checkOrder = [
  'resources',
  'up',
  'exclude',
  'require.resources',
  'require.kinds',
  'kernels',
  'require.minMemoryBytes',
  'require.labels',
  'require.capabilities',
  'require.notWith',
  'capacity',
];

/** Why `c` cannot host the request, or undefined when it can (checks in `checkOrder`). */
export function unmetConstraint(c: Candidate, req: PlacementRequest): Omit<UnmetConstraint, 'resource'> | undefined {
  const d = c.device;
  const r = req.affinity?.require;
  if (!c.up) return { constraint: 'up', detail: 'resource is down' };
  if (c.draining) return { constraint: 'up', detail: 'resource is draining' };
  if (c.idle) return { constraint: 'up', detail: 'resource is idle (powered down)' };
  if (req.exclude?.has(d.id)) return { constraint: 'exclude', detail: 'resource is the one being left' };
  if (r?.resources && !r.resources.includes(d.id)) return { constraint: 'require.resources', detail: `not one of ${r.resources.join(', ')}` };
  if (r?.kinds && !r.kinds.includes(d.kind)) return { constraint: 'require.kinds', detail: `kind ${d.kind} is not one of ${r.kinds.join(', ')}` };
  if (req.kernelKinds && !req.kernelKinds.includes(d.kind)) {
    return { constraint: 'kernels', detail: `no kernel for kind ${d.kind} (has ${req.kernelKinds.join(', ')})` };
  }
  if (r?.minMemoryBytes !== undefined && d.memoryBytes < r.minMemoryBytes) {
    return { constraint: 'require.minMemoryBytes', detail: `${d.memoryBytes} bytes < ${r.minMemoryBytes}` };
  }
  if (!matchesLabels(d, r?.labels)) return { constraint: 'require.labels', detail: `labels do not match ${JSON.stringify(r?.labels)}` };
  const missing = (r?.capabilities ?? []).filter((cap) => !d.capabilities.includes(cap));
  if (missing.length > 0) return { constraint: 'require.capabilities', detail: `lacks ${missing.join(', ')}` };
  const clash = (r?.notWith ?? []).find((x) => c.hosts?.(x) ?? false);
  if (clash !== undefined) return { constraint: 'require.notWith', detail: `hosts ${clash}` };
  if (c.usedComputeUnits + req.computeUnits > d.computeUnits) {
    return { constraint: 'capacity', detail: `${d.computeUnits - c.usedComputeUnits} of ${req.computeUnits} compute units free` };
  }
  if (c.usedMemoryBytes + req.memoryBytes > d.memoryBytes) {
    return { constraint: 'capacity', detail: `${d.memoryBytes - c.usedMemoryBytes} of ${req.memoryBytes} memory bytes free` };
  }
  return undefined;
}

/** Soft score of `c` for the request: the sum of matching `prefer` weights minus matching `avoid` weights. */
export function affinityScore(device: Device, affinity: Affinity | undefined, hosts?: HostsTask): number {
  let score = 0;
  for (const t of affinity?.prefer ?? []) if (termMatches(device, t, hosts)) score += t.weight ?? 1;
  for (const t of affinity?.avoid ?? []) if (termMatches(device, t, hosts)) score -= t.weight ?? 1;
  return score;
}

/** Picks the best candidate or throws `NoResourceError` naming the binding constraint. */
export function place<C extends Candidate>(candidates: Iterable<C>, req: PlacementRequest): C {
  const unmet: UnmetConstraint[] = [];
  let best: C | undefined;
  let bestKey: [number, number, string] | undefined;
  for (const c of candidates) {
    const why = unmetConstraint(c, req);
    if (why) {
      unmet.push({ resource: c.device.id, ...why });
      continue;
    }
    const key: [number, number, string] = [affinityScore(c.device, req.affinity, c.hosts?.bind(c)), c.usedComputeUnits / c.device.computeUnits, c.device.id];
    if (!bestKey || key[0] > bestKey[0] || (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
      best = c;
      bestKey = key;
    }
  }
  if (best) return best;
  // Name the constraint that stopped the candidate that got furthest through the checks: for a
  // full cluster that is `capacity`, not the kinds the other resources never had.
  let top = unmet.length > 0 ? 'exclude' : 'resources';
  for (const u of unmet) if (checkOrder.indexOf(u.constraint) > checkOrder.indexOf(top)) top = u.constraint;
  throw new NoResourceError(req.task, top, unmet);
}
