/** The host's real CPU as a resource: its cores are its compute units, its RAM its memory. */
import os from 'node:os';
import { type Device, validateDevice } from './device.js';

export interface HostCpuOptions {
  /** Default `cpu-host`. */
  id?: string;
  labels?: Record<string, string>;
  /** The power model, when known (default 10-65 W: a guess until the monitor reads RAPL). */
  power?: { idleW: number; peakW: number };
}

export function hostCpu(options: HostCpuOptions = {}): Device {
  const cpus = os.cpus();
  return validateDevice({
    id: options.id ?? 'cpu-host',
    kind: 'cpu',
    simulated: false,
    computeUnits: Math.max(1, cpus.length),
    memoryBytes: os.totalmem(),
    labels: Object.freeze({ host: os.hostname(), model: cpus[0]?.model.trim() ?? 'unknown', ...options.labels }),
    capabilities: Object.freeze([os.arch()]),
    power: options.power ?? { idleW: 10, peakW: 65 },
    speedFor: () => 1,
  });
}
