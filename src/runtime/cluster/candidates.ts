/** Resources of other nodes as placement candidates, from what their members last reported. */
import type { ResourceInfo } from '../../actors/resource.js';
import type { Device } from '../../devices/device.js';
import type { Candidate } from '../placement.js';

export interface NodeCandidate extends Candidate {
  readonly node: string;
  readonly device: Device;
  usedComputeUnits: number;
  usedMemoryBytes: number;
}

export function candidatesOf(node: string, resources: readonly ResourceInfo[]): NodeCandidate[] {
  return resources.map((r) => ({
    node,
    up: r.status !== 'failed',
    draining: r.status === 'draining',
    idle: r.powerState === 'idle',
    usedComputeUnits: r.used.computeUnits,
    usedMemoryBytes: r.used.memoryBytes,
    device: deviceOf(r),
  }));
}

/** A resource row as a `Device` (speed profiles do not travel: every task's speed reads 1). */
export function deviceOf(r: ResourceInfo): Device {
  return {
    id: r.id,
    kind: r.kind,
    simulated: r.simulated,
    computeUnits: r.capacity.computeUnits,
    memoryBytes: r.capacity.memoryBytes,
    labels: r.labels,
    capabilities: r.capabilities,
    power: r.power ?? { idleW: 0, peakW: 0 },
    speedFor: () => 1,
  };
}
