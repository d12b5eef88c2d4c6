/**
 * A resource actor: one device, the tasks it hosts (its children in the actor tree), and the
 * accounting of what they use. Later issues add its monitor.
 */
import type { Device, DeviceKind } from '../devices/device.js';
import type { ActorHandle } from '../runtime/nact-adapter.js';
import type { Candidate } from '../runtime/placement.js';
import { RestartTracker } from './supervision.js';
import type { TaskCell } from './task-cell.js';

export interface ResourceInfo {
  id: string;
  kind: DeviceKind;
  simulated: boolean;
  status: 'up' | 'draining' | 'failed';
  labels: Readonly<Record<string, string>>;
  capabilities: readonly string[];
  capacity: { computeUnits: number; memoryBytes: number };
  /** The device's power model. */
  power: { idleW: number; peakW: number };
  /** `idle`: powered down by the controller's power-aware mode (takes no new task, draws no idle power). */
  powerState: 'active' | 'idle';
  used: { computeUnits: number; memoryBytes: number };
  /** Tasks hosted, children included. */
  tasks: number;
  /** Kernel time accounted to this device, scaled by its speed profile. */
  busyMs: number;
  /** busyMs over the time the resource has been up (0..1). */
  utilization: number;
  /** Energy from the power model: idle watts over the uptime plus (peak - idle) watts over busy time. */
  energyJ: number;
}

export class ResourceActor implements Candidate {
  up = true;
  /** Taking no new tasks (its tasks are being moved off it). */
  draining = false;
  usedComputeUnits = 0;
  usedMemoryBytes = 0;
  busyMs = 0;
  /** Every task hosted here, children included. */
  readonly cells = new Set<TaskCell>();
  /** Restart budget of the all-for-one strategy over this resource's top-level tasks. */
  readonly groupRestarts = new RestartTracker();
  private downAtMs: number | undefined;
  private idleSinceMs: number | undefined;
  private idleTotalMs = 0;

  constructor(
    readonly device: Device,
    readonly handle: ActorHandle,
    private readonly startedAtMs: number,
  ) {}

  get id(): string {
    return this.device.id;
  }

  attach(cell: TaskCell): void {
    this.cells.add(cell);
    this.usedComputeUnits += cell.demand.computeUnits;
    this.usedMemoryBytes += cell.demand.memoryBytes;
  }

  detach(cell: TaskCell): void {
    if (!this.cells.delete(cell)) return;
    this.usedComputeUnits -= cell.demand.computeUnits;
    this.usedMemoryBytes -= cell.demand.memoryBytes;
  }

  /** Whether a task of this definition name or TaskId runs here (co-location and anti-affinity). */
  hosts(nameOrId: string): boolean {
    for (const c of this.cells) if (c.id === nameOrId || c.def.name === nameOrId) return true;
    return false;
  }

  /** Tasks whose parent is not hosted here: what moves when this resource fails. */
  topLevelCells(): TaskCell[] {
    return [...this.cells].filter((c) => !c.parent || c.parent.resource !== this);
  }

  /** Accounts `ms` of kernel time measured on the host, scaled by this device's speed for `task`. */
  account(task: string, measuredMs: number): void {
    this.busyMs += measuredMs / this.device.speedFor(task);
  }

  /** Powers the resource down (`idle`: no new tasks, no idle draw) or up again. */
  setPowerState(state: 'active' | 'idle', nowMs: number): void {
    if (state === 'idle' && this.idleSinceMs === undefined) this.idleSinceMs = nowMs;
    else if (state === 'active' && this.idleSinceMs !== undefined) {
      this.idleTotalMs += nowMs - this.idleSinceMs;
      this.idleSinceMs = undefined;
    }
  }

  get idle(): boolean {
    return this.idleSinceMs !== undefined;
  }

  private idleMs(nowMs: number): number {
    return this.idleTotalMs + (this.idleSinceMs === undefined ? 0 : Math.max(0, (this.downAtMs ?? nowMs) - this.idleSinceMs));
  }

  markDown(nowMs: number): void {
    this.up = false;
    this.downAtMs = nowMs;
  }

  info(nowMs: number): ResourceInfo {
    const d = this.device;
    const uptimeMs = Math.max(0, (this.downAtMs ?? nowMs) - this.startedAtMs);
    const busyMs = Math.min(this.busyMs, uptimeMs || this.busyMs);
    return {
      id: d.id,
      kind: d.kind,
      simulated: d.simulated,
      status: !this.up ? 'failed' : this.draining ? 'draining' : 'up',
      labels: d.labels,
      capabilities: d.capabilities,
      capacity: { computeUnits: d.computeUnits, memoryBytes: d.memoryBytes },
      power: { idleW: d.power.idleW, peakW: d.power.peakW },
      powerState: this.idleSinceMs === undefined ? 'active' : 'idle',
      used: { computeUnits: this.usedComputeUnits, memoryBytes: this.usedMemoryBytes },
      tasks: this.cells.size,
      busyMs,
      utilization: uptimeMs > 0 ? Math.min(1, busyMs / uptimeMs) : 0,
      energyJ: (d.power.idleW * Math.max(0, uptimeMs - this.idleMs(nowMs)) + (d.power.peakW - d.power.idleW) * busyMs) / 1000,
    };
  }
}
