/**
 * A simulated device that looks like real hardware to a monitor: a `DevicePlugin` whose load
 * comes from a replayed trace or a script, whose power follows the device's idle-to-peak model,
 * whose temperature follows a first-order thermal model, and which can be scripted to throttle,
 * heat up or fail. Everything runs on the injected clock, so a replay is deterministic.
 *
 * Device time: `(clock.now() - start) * speedup` ms. Trace positions, incident times and the
 * thermal time constant are all in device time, so a day of 5-minute trace replays in 86.4 s of
 * clock at `speedup: 1000` with the same temperatures as in real time.
 *
 * - utilization: the trace value (percent / 100) interpolated at device time, else `script.load`
 *   (a number or a function of device time), overridden by an active `load` incident; clamped 0..1.
 * - speedFactor: 1, or the smallest factor of the active `throttle` incidents.
 * - powerW: idleW + (peakW - idleW) x utilization x speedFactor.
 * - temperatureC: T approaches ambientC + cPerW x powerW with time constant tauMs, integrated in
 *   fixed `stepMs` steps of device time from the start (so the result does not depend on how
 *   often it is sampled); an active `heat` incident replaces that target with `targetC`.
 * - fail: at `atMs` the device emits `failed` (a runtime turns it into `failResource`); from
 *   then on every sample is all null with the reason.
 */
import { InvalidArgumentError } from '../errors.js';
import type { TimerHandle } from '../runtime/clock.js';
import type { Device, DeviceKind } from './device.js';
import {
  CoreMetrics,
  type DeviceMetrics,
  type DevicePluginListener,
  type DeviceSample,
  type DiscoveredDevice,
  type PluginStatus,
  type SyncDevicePlugin,
  unavailableSample,
} from './plugin.js';
import { type PluginCommonOptions, type PluginContext, pluginContext } from './plugin-support.js';
import { type TraceSeries, traceValueAt } from './traces.js';

export type SimIncident =
  /** Sets utilization to `utilization` (0..1) from `atMs`, for `durationMs` (default: for good). */
  | { type: 'load'; atMs: number; utilization: number; durationMs?: number }
  /** Slows the device to `factor` (0 < factor <= 1) of its speed. */
  | { type: 'throttle'; atMs: number; factor: number; durationMs?: number }
  /** Temperature ramps towards `targetC` with time constant `tauMs` (default the model's). */
  | { type: 'heat'; atMs: number; targetC: number; tauMs?: number; durationMs?: number }
  /** The device fails at `atMs`. */
  | { type: 'fail'; atMs: number; reason?: string };

export interface SimScript {
  /** Utilization 0..1 when there is no trace: a constant or a function of device time (default 0). */
  load?: number | ((deviceTimeMs: number) => number);
  /** Memory in use: a constant or a function of device time (default: unavailable, null). */
  memoryUsedBytes?: number | ((deviceTimeMs: number) => number);
  incidents?: readonly SimIncident[];
}

export interface ThermalModelOptions {
  /** Default 25 C. */
  ambientC?: number;
  /** Degrees above ambient per watt at steady state (default 50 / peakW: +50 C at full power). */
  cPerW?: number;
  /** Time constant in device ms (default 60 000). */
  tauMs?: number;
  /** Integration step in device ms (default 1000). */
  stepMs?: number;
  /** Temperature at the start (default the steady state of the starting power). */
  initialC?: number;
}

export interface SimDeviceOptions extends PluginCommonOptions {
  /** The simulated device (its id, kind, memory and power model). */
  device: Device;
  /** A utilization trace to replay (values in percent). */
  trace?: TraceSeries;
  /** Trace time at device time 0 (default 0). */
  traceOffsetMs?: number;
  /** Replay the trace again from its start after its end (default false: hold the last value). */
  loop?: boolean;
  /** Device ms per clock ms (default 1). */
  speedup?: number;
  script?: SimScript;
  thermal?: ThermalModelOptions;
}

export interface SimFailure {
  deviceId: string;
  /** Clock time of the failure. */
  timeMs: number;
  deviceTimeMs: number;
  reason: string;
}

export interface SimDevice extends SyncDevicePlugin {
  readonly device: Device;
  /** Device time now. */
  deviceTimeMs(): number;
  /** The failure, once it happened. */
  readonly failure: SimFailure | undefined;
  /** Calls `listener` when the device fails (at once if it already has); returns the unsubscribe. */
  onFailed(listener: (failure: SimFailure) => void): () => void;
}

export const SimMetrics = ['speedFactor'] as const;

export function createSimDevice(options: SimDeviceOptions): SimDevice {
  return new Sim(options);
}

function check(ok: boolean, argument: string, reason: string): void {
  if (!ok) throw new InvalidArgumentError(argument, reason);
}

const active = (i: { atMs: number; durationMs?: number }, t: number): boolean => t >= i.atMs && t < i.atMs + (i.durationMs ?? Infinity);

class Sim implements SimDevice {
  readonly kind: DeviceKind;
  readonly name = 'sim';
  readonly device: Device;
  failure: SimFailure | undefined;
  private readonly ctx: PluginContext;
  private readonly startMs: number;
  private readonly speedup: number;
  private readonly incidents: readonly SimIncident[];
  private readonly ambientC: number;
  private readonly cPerW: number;
  private readonly tauMs: number;
  private readonly stepMs: number;
  private thermalAtMs = 0;
  private thermalC: number;
  private failTimer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly o: SimDeviceOptions) {
    this.device = o.device;
    this.kind = o.device.kind;
    this.ctx = pluginContext('sim', o);
    this.speedup = o.speedup ?? 1;
    check(this.speedup > 0 && Number.isFinite(this.speedup), 'speedup', 'must be a positive finite number');
    this.incidents = [...(o.script?.incidents ?? [])];
    for (const i of this.incidents) {
      check(Number.isFinite(i.atMs) && i.atMs >= 0, 'script.incidents.atMs', 'must be a non-negative number of device ms');
      if (i.type === 'throttle') check(i.factor > 0 && i.factor <= 1, 'script.incidents.factor', 'must be in (0, 1]');
      if (i.type === 'load') check(i.utilization >= 0 && i.utilization <= 1, 'script.incidents.utilization', 'must be in [0, 1]');
    }
    const t = o.thermal ?? {};
    this.ambientC = t.ambientC ?? 25;
    this.cPerW = t.cPerW ?? (o.device.power.peakW > 0 ? 50 / o.device.power.peakW : 0);
    this.tauMs = t.tauMs ?? 60_000;
    this.stepMs = t.stepMs ?? 1000;
    check(this.cPerW >= 0, 'thermal.cPerW', 'must be >= 0');
    check(this.tauMs > 0 && this.stepMs > 0, 'thermal', 'tauMs and stepMs must be positive');
    this.startMs = this.ctx.clock.now();
    this.thermalC = t.initialC ?? this.thermalTarget(0).targetC;
    const fail = this.incidents.filter((i) => i.type === 'fail').sort((a, b) => a.atMs - b.atMs)[0];
    if (fail) this.failTimer = this.ctx.clock.setTimer(() => this.fail(fail.atMs, fail.reason ?? 'scripted failure'), fail.atMs / this.speedup);
  }

  deviceTimeMs(): number {
    return (this.ctx.clock.now() - this.startMs) * this.speedup;
  }

  async discover(): Promise<DiscoveredDevice[]> {
    if (this.closed) return [];
    const d = this.device;
    const unavailable: Record<string, string> = {};
    if (this.o.script?.memoryUsedBytes === undefined) unavailable['memoryUsedBytes'] = 'the simulation has no memory model (script.memoryUsedBytes)';
    return [
      {
        id: d.id,
        kind: d.kind,
        model: `simulated ${d.kind}`,
        memoryBytes: d.memoryBytes,
        capabilities: [...d.capabilities],
        labels: { ...d.labels, simulated: 'true', ...(this.o.trace ? { trace: this.o.trace.name } : {}) },
        metrics: [...CoreMetrics, ...SimMetrics],
        unavailable,
      },
    ];
  }

  status(): PluginStatus {
    if (this.closed) return { available: false, reason: 'plugin closed' };
    return this.failure ? { available: false, reason: `device failed: ${this.failure.reason}` } : { available: true };
  }

  subscribe(listener: DevicePluginListener): () => void {
    return this.ctx.emitter.subscribe(listener);
  }

  onFailed(listener: (failure: SimFailure) => void): () => void {
    if (this.failure) {
      listener(this.failure);
      return () => undefined;
    }
    return this.subscribe((e) => {
      if (e.type === 'failed' && this.failure) listener(this.failure);
    });
  }

  sample(deviceId: string): DeviceSample {
    const now = this.ctx.clock.now();
    if (this.closed) return unavailableSample(deviceId, now, 'plugin closed', SimMetrics);
    if (deviceId !== this.device.id) return unavailableSample(deviceId, now, `no simulated device ${deviceId} (this one is ${this.device.id})`, SimMetrics);
    if (this.failure) return unavailableSample(deviceId, now, `device failed: ${this.failure.reason}`, SimMetrics);
    const t = this.deviceTimeMs();
    const { utilization, speedFactor, powerW } = this.state(t);
    const mem = this.o.script?.memoryUsedBytes;
    const metrics: DeviceMetrics = {
      utilization,
      memoryUsedBytes: mem === undefined ? null : typeof mem === 'number' ? mem : mem(t),
      memoryTotalBytes: this.device.memoryBytes,
      powerW,
      temperatureC: this.temperatureAt(t),
      speedFactor,
    };
    return { deviceId, timeMs: now, metrics };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failTimer?.cancel();
    this.ctx.emitter.clear();
  }

  private fail(deviceTimeMs: number, reason: string): void {
    if (this.failure || this.closed) return;
    this.failure = { deviceId: this.device.id, timeMs: this.ctx.clock.now(), deviceTimeMs, reason };
    this.ctx.log.info({ resource: this.device.id, reason, deviceTimeMs }, 'simulated device failed');
    this.ctx.emitter.emit({ type: 'failed', deviceId: this.device.id, timeMs: this.failure.timeMs, reason });
    this.ctx.emitter.emit({ type: 'status', status: this.status() });
  }

  private state(t: number): { utilization: number; speedFactor: number; powerW: number } {
    let u: number;
    const trace = this.o.trace;
    if (trace) u = traceValueAt(trace, (this.o.traceOffsetMs ?? 0) + t, this.o.loop ?? false) / 100;
    else {
      const load = this.o.script?.load ?? 0;
      u = typeof load === 'number' ? load : load(t);
    }
    let speedFactor = 1;
    for (const i of this.incidents) {
      if (!active(i, t)) continue;
      if (i.type === 'load') u = i.utilization;
      else if (i.type === 'throttle') speedFactor = Math.min(speedFactor, i.factor);
    }
    const utilization = Number.isFinite(u) ? Math.min(1, Math.max(0, u)) : 0;
    const { idleW, peakW } = this.device.power;
    return { utilization, speedFactor, powerW: idleW + (peakW - idleW) * utilization * speedFactor };
  }

  private thermalTarget(t: number): { targetC: number; tauMs: number } {
    let heat: Extract<SimIncident, { type: 'heat' }> | undefined;
    for (const i of this.incidents) if (i.type === 'heat' && active(i, t)) heat = i;
    if (heat) return { targetC: heat.targetC, tauMs: heat.tauMs ?? this.tauMs };
    return { targetC: this.ambientC + this.cPerW * this.state(t).powerW, tauMs: this.tauMs };
  }

  /** Integrates the thermal model on the fixed step grid up to `t`, then the part of a step to `t`. */
  private temperatureAt(t: number): number {
    const step = (fromMs: number, c: number, dtMs: number): number => {
      const { targetC, tauMs } = this.thermalTarget(fromMs);
      return targetC + (c - targetC) * Math.exp(-dtMs / tauMs);
    };
    while (this.thermalAtMs + this.stepMs <= t) {
      this.thermalC = step(this.thermalAtMs, this.thermalC, this.stepMs);
      this.thermalAtMs += this.stepMs;
    }
    return t > this.thermalAtMs ? step(this.thermalAtMs, this.thermalC, t - this.thermalAtMs) : this.thermalC;
  }
}
