/**
 * The demo's scenario: which node owns which simulated device, how each device's load and
 * temperature evolve over the run, and the scripted incidents. Everything is a pure function of
 * run time (ms since the load started) and a seed, so the RMS and every node process compute the
 * same profiles without talking about them.
 *
 * Profiles are time-compressed: one run of `seconds` is one "day". Each device's background load
 * is diurnal-shaped (a sine over the run plus seeded value noise), or a real trace (`--trace`)
 * squeezed into the run. On top of it:
 * - a load surge on `b/cpu-0` ramps from 35 % of the run over 30 % of it to full load, holds until
 *   85 %, then eases off: a forecaster sees it coming seconds before the overload (at about 53 %);
 * - `a/gpu-0` heats from 30 % of the run (temperature time constant: 15 % of the run) towards
 *   115 C and fails at 62 %.
 * Tasks add to the load of the device they run on (`hostedLoad` each).
 */
import { createSimDevice, simulatedDevice, traceValueAt, type Device, type DeviceKind, type SimDevice, type SimIncident, type TraceSeries } from '../index.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';

export interface DemoDeviceSpec {
  id: string;
  kind: DeviceKind;
  /** Mean background utilization (0..1). */
  base: number;
}

export interface DemoNodeSpec {
  name: string;
  devices: DemoDeviceSpec[];
}

export const demoNodes: readonly DemoNodeSpec[] = [
  { name: 'node-a', devices: [{ id: 'a/cpu-0', kind: 'cpu', base: 0.4 }, { id: 'a/gpu-0', kind: 'gpu', base: 0.45 }] },
  { name: 'node-b', devices: [{ id: 'b/cpu-0', kind: 'cpu', base: 0.35 }, { id: 'b/fpga-0', kind: 'fpga', base: 0.3 }] },
  { name: 'node-c', devices: [{ id: 'c/cpu-0', kind: 'cpu', base: 0.42 }, { id: 'c/asic-0', kind: 'asic', base: 0.3 }] },
];

export const SURGE_RESOURCE = 'b/cpu-0';
export const HEAT_RESOURCE = 'a/gpu-0';
/** Utilization each hosted demo task adds to its device. */
export const HOSTED_LOAD = 0.06;
/** The failure threshold the runtime's failure predictor is given for the demo's devices, C (a cpu at full load runs at 75 C). */
export const CRITICAL_C = 95;

/** Settings every process of one run shares. */
export interface ScenarioSettings {
  seconds: number;
  seed: number;
  /** A utilization trace replacing the synthetic background (read by each process). */
  trace?: TraceSeries;
}

/** When the incidents happen, ms of run time. */
export function incidentTimes(seconds: number): { surgeStartMs: number; surgeFullMs: number; surgeEndMs: number; heatMs: number; failMs: number } {
  const T = seconds * 1000;
  return { surgeStartMs: 0.35 * T, surgeFullMs: 0.65 * T, surgeEndMs: 0.85 * T, heatMs: 0.3 * T, failMs: 0.62 * T };
}

/** A 32-bit hash of integers (for seeded value noise that depends on time only, not on sampling). */
function hash(...xs: number[]): number {
  let h = 2166136261;
  for (const x of xs) h = Math.imul(h ^ (x | 0), 16777619) ^ (h >>> 13);
  h = Math.imul(h ^ (h >>> 16), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth noise in -1..1: random values every 400 ms, cosine-interpolated between. */
function valueNoise(seed: number, stream: number, tMs: number): number {
  const k = Math.floor(tMs / 400);
  const f = (tMs - k * 400) / 400;
  const a = hash(seed, stream, k) * 2 - 1;
  const b = hash(seed, stream, k + 1) * 2 - 1;
  const w = (1 - Math.cos(Math.PI * f)) / 2;
  return a + (b - a) * w;
}

/** The surge's extra utilization at run time `tMs` (0 outside it). */
export function surgeAt(seconds: number, tMs: number): number {
  const { surgeStartMs, surgeFullMs, surgeEndMs } = incidentTimes(seconds);
  const peak = 0.7;
  if (tMs < surgeStartMs) return 0;
  if (tMs < surgeFullMs) return (peak * (tMs - surgeStartMs)) / (surgeFullMs - surgeStartMs);
  if (tMs < surgeEndMs) return peak;
  const fall = 0.05 * seconds * 1000;
  return Math.max(0, peak * (1 - (tMs - surgeEndMs) / fall));
}

/** Background utilization of a device at run time `tMs`. */
export function backgroundAt(s: ScenarioSettings, spec: DemoDeviceSpec, index: number, tMs: number): number {
  const T = s.seconds * 1000;
  if (s.trace) {
    const span = (s.trace.timesMs.at(-1) ?? 0) + s.trace.intervalMs;
    const offset = (span * index) / 7;
    const v = traceValueAt(s.trace, offset + (tMs / T) * span, true) / 100;
    return 0.2 + 0.5 * v; // keep the trace inside the band where the incidents matter
  }
  const diurnal = 0.08 * Math.sin((2 * Math.PI * tMs) / T + index * 1.3);
  return spec.base + diurnal + 0.025 * valueNoise(s.seed, index, tMs);
}

/** Index of a device in the scenario (its noise stream and trace offset). */
export function deviceIndex(id: string): number {
  return demoNodes.flatMap((n) => n.devices).findIndex((d) => d.id === id);
}

export function deviceSpec(id: string): DemoDeviceSpec {
  const spec = demoNodes.flatMap((n) => n.devices).find((d) => d.id === id);
  if (!spec) throw new Error(`no demo device ${id}`);
  return spec;
}

/** The device description a node registers (capacity, power model, speed of the kernels). */
export function demoDevice(spec: DemoDeviceSpec): Device {
  const speed = spec.kind === 'gpu' ? { matmul: 8 } : spec.kind === 'fpga' ? { aggregator: 3 } : 1;
  return simulatedDevice({ kind: spec.kind, id: spec.id, speed });
}

function incidentsOf(id: string, seconds: number): SimIncident[] {
  if (id !== HEAT_RESOURCE) return [];
  const { heatMs, failMs } = incidentTimes(seconds);
  return [
    { type: 'heat', atMs: heatMs, targetC: 115, tauMs: 0.15 * seconds * 1000 },
    { type: 'fail', atMs: failMs, reason: 'over temperature' },
  ];
}

/**
 * The simulated device plugin of one demo device, started now: its load is the background plus
 * the surge plus `hosted()` (the load of the demo tasks on it), its temperature follows the
 * thermal model (time constant 5 % of the run) or the heat incident.
 */
export function createDemoSimDevice(s: ScenarioSettings, spec: DemoDeviceSpec, hosted: () => number, env: { clock: Clock; logger: Logger }): SimDevice {
  const index = deviceIndex(spec.id);
  const load = (tMs: number) => backgroundAt(s, spec, index, tMs) + (spec.id === SURGE_RESOURCE ? surgeAt(s.seconds, tMs) : 0) + hosted();
  return createSimDevice({
    device: demoDevice(spec),
    clock: env.clock,
    logger: env.logger,
    script: { load, incidents: incidentsOf(spec.id, s.seconds) },
    thermal: { tauMs: 0.05 * s.seconds * 1000, stepMs: 50 },
  });
}
