/**
 * A device is what a resource actor runs on: a real CPU, or a simulated CPU, GPU, FPGA or ASIC.
 * Capacity is in abstract compute units (tasks declare a demand in the same units), memory in
 * bytes, power as a linear idle-to-peak model, speed relative to the host CPU per task kernel.
 */
import { InvalidArgumentError } from '../errors.js';

export const DeviceKinds = ['cpu', 'gpu', 'fpga', 'asic'] as const;
export type DeviceKind = (typeof DeviceKinds)[number];

export interface PowerModel {
  /** Watts drawn with nothing running. */
  idleW: number;
  /** Watts drawn at full utilization. */
  peakW: number;
}

export interface Device {
  readonly id: string;
  readonly kind: DeviceKind;
  /** True for a device godwit simulates (its compute is accounted by its speed profile). */
  readonly simulated: boolean;
  readonly computeUnits: number;
  readonly memoryBytes: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly capabilities: readonly string[];
  readonly power: PowerModel;
  /** Speed of `task`'s kernel here relative to the host CPU (1 = same; 8 = eight times faster). */
  speedFor(task: string): number;
}

export function isDeviceKind(value: unknown): value is DeviceKind {
  return typeof value === 'string' && (DeviceKinds as readonly string[]).includes(value);
}

export function validateDevice(d: Device): Device {
  if (typeof d.id !== 'string' || d.id.length === 0) throw new InvalidArgumentError('device.id', 'must be a non-empty string');
  if (!isDeviceKind(d.kind)) throw new InvalidArgumentError('device.kind', `must be one of ${DeviceKinds.join(', ')}, got ${String(d.kind)}`);
  if (!(d.computeUnits > 0)) throw new InvalidArgumentError('device.computeUnits', 'must be a positive number');
  if (!(d.memoryBytes >= 0)) throw new InvalidArgumentError('device.memoryBytes', 'must be a non-negative number');
  if (!(d.power.idleW >= 0) || !(d.power.peakW >= d.power.idleW)) {
    throw new InvalidArgumentError('device.power', 'needs 0 <= idleW <= peakW');
  }
  return d;
}
