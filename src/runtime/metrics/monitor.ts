/**
 * The monitor of every resource actor: every `intervalMs` (10 ms to 1 s) it samples the device
 * (through its sampler) and the tasks the resource hosts into the node's metric store; an agent
 * also ships them to the RMS in batches, every `flushIntervalMs`.
 *
 * Metrics of a sample: the device's (`utilization` 0..1, `memoryUsedBytes`, `memoryTotalBytes`,
 * `powerW`, `temperatureC`, and whatever else its sampler gives), then `tasks`, `messagesPerS`,
 * `handlerMsPerS` (synchronous receive time per second), `queueDepth`, `eventLoopUtilization`
 * (of the node's event loop, 0..1), `rttMs` (to the RMS; null on the RMS itself), and
 * `custom.<name>` summed over the tasks' `ctx.metrics`. null means unavailable, never zero.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { InvalidArgumentError } from '../../errors.js';
import type { ResourceActor } from '../../actors/resource.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { MetricStore } from './metric-store.js';

export type Metrics = Record<string, number | null>;

/** Latest readings of a device; a plugin, a simulated device, or the resource's own accounting. */
export type DeviceSampler = (nowMs: number) => Metrics;

export interface MonitorOptions {
  /** Sampling interval, ms: 10 to 1000 (default 1000). */
  intervalMs?: number;
  /** How often samples are handed on in one batch, ms (default 1000). */
  flushIntervalMs?: number;
}

export interface ResourceSample {
  resource: string;
  timeMs: number;
  metrics: Metrics;
}

export function resolveMonitorOptions(o: MonitorOptions | undefined): Required<MonitorOptions> {
  const intervalMs = o?.intervalMs ?? 1000;
  const flushIntervalMs = o?.flushIntervalMs ?? 1000;
  if (typeof intervalMs !== 'number' || !(intervalMs >= 10 && intervalMs <= 1000)) {
    throw new InvalidArgumentError('monitor.intervalMs', `must be between 10 and 1000 ms, got ${String(intervalMs)}`);
  }
  if (typeof flushIntervalMs !== 'number' || !(flushIntervalMs > 0)) throw new InvalidArgumentError('monitor.flushIntervalMs', 'must be a positive number of ms');
  return { intervalMs, flushIntervalMs };
}

/**
 * The sampler a resource gets when no device plugin is attached: its own accounting. It fills
 * one object again and again (the monitor copies the readings at once), so sampling allocates
 * nothing.
 */
export function accountingSampler(r: ResourceActor): DeviceSampler {
  let lastMs: number | undefined;
  let lastBusyMs = r.busyMs;
  const out = { utilization: 0, memoryUsedBytes: 0, memoryTotalBytes: 0, powerW: 0, temperatureC: null as number | null };
  return (nowMs) => {
    const dt = lastMs === undefined ? 0 : nowMs - lastMs;
    const utilization = dt > 0 ? Math.min(1, Math.max(0, (r.busyMs - lastBusyMs) / dt)) : 0;
    lastMs = nowMs;
    lastBusyMs = r.busyMs;
    const p = r.device.power;
    out.utilization = utilization;
    out.memoryUsedBytes = r.usedMemoryBytes;
    out.memoryTotalBytes = r.device.memoryBytes;
    out.powerW = p.idleW + (p.peakW - p.idleW) * utilization;
    return out;
  };
}

interface TaskTotals {
  processed: number;
  handlerMs: number;
}

const unavailableDevice: Metrics = Object.freeze({ utilization: null, memoryUsedBytes: null, memoryTotalBytes: null, powerW: null, temperatureC: null });

export class Monitoring {
  private timer: TimerHandle | undefined;
  private flushTimer: TimerHandle | undefined;
  private batch: ResourceSample[] = [];
  private readonly samplers = new Map<string, DeviceSampler>();
  private readonly last = new Map<string, TaskTotals & { atMs: number }>();
  private readonly custom = new Map<string, number>();
  private elu: EventLoopUtilization | undefined;
  /** Measured round trip to the RMS, ms (set by the cluster layer). */
  rttMs: number | null = null;
  /** Set on an agent: every flush hands the batch on (to the RMS). Without it nothing is batched. */
  ship: ((batch: ResourceSample[]) => void) | undefined;

  constructor(
    readonly options: Required<MonitorOptions>,
    private readonly clock: Clock,
    private readonly resources: () => Iterable<ResourceActor>,
    /** Where each reading goes at once (the node's store). */
    private readonly store: MetricStore,
    private readonly onSamplerError: (resource: string, err: unknown) => void = () => {},
  ) {}

  /** Attaches a device sampler to a resource (replacing its accounting sampler). */
  attach(resource: string, sampler: DeviceSampler): void {
    this.samplers.set(resource, sampler);
  }

  start(): void {
    const tick = () => {
      this.sampleAll();
      this.timer = this.clock.setTimer(tick, this.options.intervalMs);
    };
    const flush = () => {
      this.flush();
      this.flushTimer = this.clock.setTimer(flush, this.options.flushIntervalMs);
    };
    this.timer = this.clock.setTimer(tick, this.options.intervalMs);
    this.flushTimer = this.clock.setTimer(flush, this.options.flushIntervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.flushTimer?.cancel();
    this.flush();
  }

  /**
   * Takes one sample of every up resource now (the timer calls this). Readings go straight into
   * the store's typed arrays; only an agent also keeps them, as one object per sample, for the
   * next shipment.
   */
  sampleAll(): void {
    const now = this.clock.now();
    const elu = performance.eventLoopUtilization(this.elu);
    this.elu = performance.eventLoopUtilization();
    for (const r of this.resources()) {
      if (!r.up) continue;
      let sampler = this.samplers.get(r.id);
      if (!sampler) this.samplers.set(r.id, (sampler = accountingSampler(r)));
      let device: Metrics;
      try {
        device = sampler(now);
      } catch (err) {
        // A sampler that throws reports its metrics as unavailable; the monitor goes on.
        this.onSamplerError(r.id, err);
        device = unavailableDevice;
      }
      const series = this.store.seriesOf(r.id);
      const shipped: Metrics | undefined = this.ship ? { ...device } : undefined;
      const put = (name: string, value: number | null) => {
        this.store.add(series, name, now, value);
        if (shipped) shipped[name] = value;
      };
      for (const name in device) this.store.add(series, name, now, device[name]);
      this.taskMetrics(r, now, put);
      put('eventLoopUtilization', elu.utilization);
      put('rttMs', this.rttMs);
      if (shipped) this.batch.push({ resource: r.id, timeMs: now, metrics: shipped });
    }
  }

  /** The task counters of `r`, handed to `put` one by one. */
  private taskMetrics(r: ResourceActor, now: number, put: (name: string, value: number | null) => void): void {
    let processed = 0;
    let handlerMs = 0;
    let queueDepth = 0;
    const custom = this.custom;
    custom.clear();
    for (const c of r.cells) {
      processed += c.processed;
      handlerMs += c.handlerMs;
      queueDepth += c.queued;
      if (c.custom.size === 0) continue;
      for (const [name, value] of c.custom) custom.set(name, (custom.get(name) ?? 0) + value);
    }
    let prev = this.last.get(r.id);
    if (!prev) this.last.set(r.id, (prev = { processed, handlerMs, atMs: Number.NaN }));
    const dtS = (now - prev.atMs) / 1000;
    // No rate before two samples; a task that moved away takes its counters with it, and a
    // negative delta reads as unavailable too.
    put('tasks', r.cells.size);
    put('messagesPerS', dtS > 0 && processed >= prev.processed ? (processed - prev.processed) / dtS : null);
    put('handlerMsPerS', dtS > 0 && handlerMs >= prev.handlerMs ? (handlerMs - prev.handlerMs) / dtS : null);
    put('queueDepth', queueDepth);
    for (const [name, value] of custom) put(`custom.${name}`, value);
    prev.processed = processed;
    prev.handlerMs = handlerMs;
    prev.atMs = now;
  }

  flush(): void {
    if (this.batch.length === 0 || !this.ship) return;
    const batch = this.batch;
    this.batch = [];
    this.ship(batch);
  }
}
