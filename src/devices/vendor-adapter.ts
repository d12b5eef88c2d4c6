/**
 * FPGAs, ASICs and any other accelerator whose vendor ships a tool or a sysfs tree: a small
 * `VendorAdapter` says how to list the devices and read their metrics in one go, and
 * `createVendorPlugin` turns it into a `DevicePlugin` with the plugin contract (cheap sample,
 * null for unavailable, typed errors logged once, close releases everything).
 *
 * Vendor tools are slow (xbutil examine takes hundreds of ms), so `sample()` never runs one per
 * call: it answers from the latest reading and starts a refresh when that reading is older than
 * `minRefreshMs` (single flight, no timers). It waits for the refresh only when there is no
 * reading yet or the reading is older than `maxAgeMs`. A failed refresh (command failure,
 * timeout, bad JSON) makes every metric of the adapter null until a refresh succeeds; the next
 * attempt is `minRefreshMs` later, so a broken tool is not run in a loop.
 *
 * Reference adapters: `createXbutilAdapter` (Xilinx/AMD XRT, JSON from a command) in xbutil.ts
 * and `createHwmonAdapter` (any driver exposing hwmon files) in hwmon-adapter.ts.
 */
import type { Clock } from '../runtime/clock.js';
import type { DeviceKind } from './device.js';
import { type DeviceError, DeviceSourceError, DeviceCommandError } from './device-errors.js';
import {
  type DeviceMetrics,
  type DevicePlugin,
  type DevicePluginListener,
  type DeviceSample,
  type DiscoveredDevice,
  type MetricValue,
  type PluginStatus,
  CoreMetrics,
  unavailableSample,
} from './plugin.js';
import { type PluginCommonOptions, type PluginContext, errorText, pluginContext } from './plugin-support.js';

/** What an adapter gets for each call: the plugin's clock (for time limits) and its close signal. */
export interface AdapterContext {
  clock: Clock;
  /** Aborted when the plugin closes: stop any command in flight. */
  signal: AbortSignal;
}

/** A device as the adapter sees it; the plugin adds `kind` and `capabilities`. */
export interface VendorDevice {
  /** Unique within the adapter and stable while the process runs: `fpga-0000:3b:00.1`. */
  id: string;
  model: string;
  memoryBytes?: number;
  labels: Record<string, string>;
  /** Metric names its readings carry (the core ones are added when missing). */
  metrics: readonly string[];
  /** Metrics the device can never report, with the reason. */
  unavailable?: Record<string, string>;
}

export interface VendorDeviceReading {
  /** Values by metric name; a metric left out counts as null. */
  metrics: Record<string, MetricValue>;
  /** Problems with this device's reading (a sensor file that did not read). */
  errors?: string[];
}

/** One reading of every device the adapter knows, by device id. */
export type VendorReading = ReadonlyMap<string, VendorDeviceReading>;

export interface VendorAdapter {
  /** `xbutil`, `hwmon:habanalabs`; names the plugin. */
  readonly name: string;
  readonly kind: DeviceKind;
  /** Lists the devices; rejects with a `DeviceCommandError` or `DeviceSourceError`. */
  discover(ctx: AdapterContext): Promise<VendorDevice[]>;
  /** Reads every device at once; rejects like `discover`. */
  sample(ctx: AdapterContext): Promise<VendorReading>;
  /** Placement capabilities of a device (`xrt`, the shell name, `int8`, ...). */
  capabilities(device: VendorDevice): readonly string[];
  /** Releases what the adapter holds (optional). */
  close?(): Promise<void>;
}

export interface VendorPluginOptions extends PluginCommonOptions {
  /** A reading younger than this is served as is (default 1000 ms). */
  minRefreshMs?: number;
  /** A reading older than this is not served: `sample()` waits for the refresh (default 3 x minRefreshMs). */
  maxAgeMs?: number;
}

export function createVendorPlugin(adapter: VendorAdapter, options: VendorPluginOptions = {}): DevicePlugin {
  return new VendorPlugin(adapter, options);
}

class VendorPlugin implements DevicePlugin {
  readonly kind: DeviceKind;
  readonly name: string;
  private readonly ctx: PluginContext;
  private readonly minRefreshMs: number;
  private readonly maxAgeMs: number;
  private readonly abort = new AbortController();
  private devices: VendorDevice[] = [];
  private reading: VendorReading | undefined;
  private readAtMs = -Infinity;
  private attemptAtMs = -Infinity;
  private lastError: DeviceError | undefined;
  private inflight: Promise<void> | undefined;
  private current: PluginStatus = { available: false, reason: 'not discovered yet' };
  private closed = false;

  constructor(
    private readonly adapter: VendorAdapter,
    options: VendorPluginOptions,
  ) {
    this.kind = adapter.kind;
    this.name = adapter.name;
    this.ctx = pluginContext(adapter.name, options);
    this.minRefreshMs = options.minRefreshMs ?? 1000;
    this.maxAgeMs = options.maxAgeMs ?? 3 * this.minRefreshMs;
  }

  status(): PluginStatus {
    return this.current;
  }

  subscribe(listener: DevicePluginListener): () => void {
    return this.ctx.emitter.subscribe(listener);
  }

  async discover(): Promise<DiscoveredDevice[]> {
    if (this.closed) return [];
    try {
      this.devices = await this.adapter.discover({ clock: this.ctx.clock, signal: this.abort.signal });
      this.ctx.problems.clear('discover');
    } catch (err) {
      const e = asDeviceError(err, this.name);
      if (!this.closed) this.ctx.problems.report('discover', e);
      this.devices = [];
      this.setStatus({ available: false, reason: e.message });
      return [];
    }
    this.setStatus(this.devices.length > 0 ? { available: true } : { available: false, reason: `${this.name} found no device` });
    return this.devices.map((d) => ({
      id: d.id,
      kind: this.kind,
      model: d.model,
      ...(d.memoryBytes === undefined ? {} : { memoryBytes: d.memoryBytes }),
      capabilities: [...this.adapter.capabilities(d)],
      labels: { ...d.labels },
      metrics: [...new Set([...CoreMetrics, ...d.metrics])],
      unavailable: { ...d.unavailable },
    }));
  }

  async sample(deviceId: string): Promise<DeviceSample> {
    if (this.closed) return unavailableSample(deviceId, this.ctx.clock.now(), 'plugin closed');
    const now = this.ctx.clock.now();
    if (!this.inflight && now - this.attemptAtMs >= this.minRefreshMs) {
      const run: Promise<void> = this.refresh().finally(() => {
        if (this.inflight === run) this.inflight = undefined;
      });
      this.inflight = run;
    }
    const tooOld = this.reading === undefined || now - this.readAtMs > this.maxAgeMs;
    if (tooOld && this.inflight) await this.inflight;
    return this.answer(deviceId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    await this.inflight;
    await this.adapter.close?.();
    this.setStatus({ available: false, reason: 'plugin closed' });
    this.ctx.emitter.clear();
  }

  private answer(deviceId: string): DeviceSample {
    const now = this.ctx.clock.now();
    const extra = this.devices.find((d) => d.id === deviceId)?.metrics ?? [];
    if (this.closed) return unavailableSample(deviceId, now, 'plugin closed', extra);
    if (this.lastError) return unavailableSample(deviceId, now, this.lastError.message, extra);
    const r = this.reading?.get(deviceId);
    if (!r) return unavailableSample(deviceId, now, `no device ${deviceId} in the output of ${this.name}`, extra);
    const metrics: Record<string, MetricValue> = {};
    for (const name of [...CoreMetrics, ...extra]) metrics[name] = null;
    Object.assign(metrics, r.metrics);
    const sample: DeviceSample = { deviceId, timeMs: this.readAtMs, metrics: metrics as DeviceMetrics };
    return r.errors && r.errors.length > 0 ? { ...sample, errors: [...r.errors] } : sample;
  }

  private async refresh(): Promise<void> {
    this.attemptAtMs = this.ctx.clock.now();
    try {
      const reading = await this.adapter.sample({ clock: this.ctx.clock, signal: this.abort.signal });
      if (this.closed) return;
      this.reading = reading;
      this.readAtMs = this.ctx.clock.now();
      this.lastError = undefined;
      this.ctx.problems.clear('sample');
      this.setStatus({ available: true });
      for (const id of reading.keys()) this.ctx.emitter.emit({ type: 'sample', sample: this.answer(id) });
    } catch (err) {
      if (this.closed) return;
      this.lastError = asDeviceError(err, this.name);
      this.ctx.problems.report('sample', this.lastError);
      this.setStatus({ available: false, reason: this.lastError.message });
    }
  }

  private setStatus(next: PluginStatus): void {
    if (next.available === this.current.available && next.reason === this.current.reason) return;
    this.current = next;
    this.ctx.emitter.emit({ type: 'status', status: next });
  }
}

/** An adapter's rejection as a device error (an adapter bug becomes a source error, not a crash). */
function asDeviceError(err: unknown, plugin: string): DeviceError {
  if (err instanceof DeviceSourceError || err instanceof DeviceCommandError) return err;
  return new DeviceSourceError({ plugin, source: plugin, reason: `adapter failed: ${errorText(err)}`, cause: err });
}
