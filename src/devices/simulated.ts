/** Simulated devices: a CPU, GPU, FPGA or ASIC described by numbers, for tests, demos and the simulator. */
import { InvalidArgumentError } from '../errors.js';
import { type Device, type DeviceKind, type PowerModel, validateDevice } from './device.js';

export interface SimulatedDeviceOptions {
  kind: DeviceKind;
  /** Default `<kind>-<n>`, numbered per kind in creation order within the process. */
  id?: string;
  /** Default per kind: cpu 8, gpu 32, fpga 16, asic 16. */
  computeUnits?: number;
  /** Default per kind: cpu 16 GiB, gpu 24 GiB, fpga 8 GiB, asic 4 GiB. */
  memoryBytes?: number;
  labels?: Record<string, string>;
  capabilities?: string[];
  /** Default per kind: cpu 20-95 W, gpu 30-300 W, fpga 10-75 W, asic 5-40 W. */
  power?: PowerModel;
  /** Relative speed: one number for every task, or per task name with `default` as fallback (default 1). */
  speed?: number | Record<string, number>;
}

const GiB = 1024 ** 3;

const defaults: Record<DeviceKind, { computeUnits: number; memoryBytes: number; power: PowerModel }> = {
  cpu: { computeUnits: 8, memoryBytes: 16 * GiB, power: { idleW: 20, peakW: 95 } },
  gpu: { computeUnits: 32, memoryBytes: 24 * GiB, power: { idleW: 30, peakW: 300 } },
  fpga: { computeUnits: 16, memoryBytes: 8 * GiB, power: { idleW: 10, peakW: 75 } },
  asic: { computeUnits: 16, memoryBytes: 4 * GiB, power: { idleW: 5, peakW: 40 } },
};

const counters: Record<DeviceKind, number> = { cpu: 0, gpu: 0, fpga: 0, asic: 0 };

export function simulatedDevice(options: SimulatedDeviceOptions): Device {
  const base = defaults[options.kind];
  if (!base) throw new InvalidArgumentError('kind', `unknown device kind ${String(options.kind)}`);
  const speed = options.speed ?? 1;
  const speedFor =
    typeof speed === 'number'
      ? () => speed
      : (task: string) => speed[task] ?? speed['default'] ?? 1;
  for (const v of typeof speed === 'number' ? [speed] : Object.values(speed)) {
    if (!(v > 0)) throw new InvalidArgumentError('speed', 'every speed must be a positive number');
  }
  return validateDevice({
    id: options.id ?? `${options.kind}-${counters[options.kind]++}`,
    kind: options.kind,
    simulated: true,
    computeUnits: options.computeUnits ?? base.computeUnits,
    memoryBytes: options.memoryBytes ?? base.memoryBytes,
    labels: Object.freeze({ ...options.labels }),
    capabilities: Object.freeze([...(options.capabilities ?? [])]),
    power: options.power ?? base.power,
    speedFor,
  });
}
