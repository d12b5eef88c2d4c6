/**
 * The device plugin interface: what a resource actor's monitor reads a device through. One
 * plugin serves one family of devices (the host CPU, the NVIDIA GPUs of a host, the FPGAs one
 * vendor tool reports, one simulated device); real and simulated devices look the same.
 *
 * Contract:
 * - `discover()` is async and may run commands; it never rejects for an absent source: a host
 *   without the hardware or the tool gets `[]` and `status().available === false` with a reason.
 * - `sample(id)` is cheap: streaming and polled sources return their latest values and refresh
 *   in the background. It never throws or rejects: a metric whose source is absent or broken is
 *   `null` (never 0), and the problem is in `errors`, logged once and emitted as an `error` event.
 * - `close()` releases everything the plugin holds (timers, child processes); sampling after it
 *   gives all-null samples.
 */
import type { DeviceKind } from './device.js';
import type { DeviceError } from './device-errors.js';

/** The metrics every plugin reports (each `null` where the device cannot tell). */
export const CoreMetrics = [
  /** Busy fraction, 0..1. */
  'utilization',
  'memoryUsedBytes',
  'memoryTotalBytes',
  /** Power drawn now, watts. */
  'powerW',
  /** The hottest relevant sensor, degrees Celsius. */
  'temperatureC',
] as const;

export type CoreMetric = (typeof CoreMetrics)[number];

/** A reading; `null` means unavailable (no source, unreadable, unparseable, stale), never "zero". */
export type MetricValue = number | null;

/** Core metrics are always present; plugins add their own names (`clockSmMHz`, `fanRpm`, ...). */
export type DeviceMetrics = { readonly [K in CoreMetric]: MetricValue } & { readonly [name: string]: MetricValue };

export interface DeviceSample {
  readonly deviceId: string;
  /**
   * Clock time (ms, the plugin's injected clock) at which the values were measured. For a
   * streaming or polled source it is when the latest data arrived, so `clock.now() - timeMs` is
   * the sample's age.
   */
  readonly timeMs: number;
  readonly metrics: DeviceMetrics;
  /** Why some metrics are null or old, one lowercase sentence each; absent when all is well. */
  readonly errors?: readonly string[];
}

export interface DiscoveredDevice {
  /** Stable within the process: `cpu-host`, `gpu-0`, `fpga-0000:3b:00.1`, the sim device's id. */
  readonly id: string;
  readonly kind: DeviceKind;
  /** As the vendor names it: `NVIDIA H100 80GB HBM3`, `Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz`. */
  readonly model: string;
  readonly memoryBytes?: number;
  /** Placement capabilities (`cuda`, `avx512f`, `xrt`, ...). */
  readonly capabilities: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** Every metric name this device's samples carry (core ones included, even when unavailable). */
  readonly metrics: readonly string[];
  /** Metrics known to be unavailable at discovery, each with the reason (`no readable RAPL zone`). */
  readonly unavailable: Readonly<Record<string, string>>;
}

export interface PluginStatus {
  /** False when the plugin cannot read anything (no tool, no device, closed). */
  readonly available: boolean;
  /** Why not, when not available; the last failure of a degraded source otherwise. */
  readonly reason?: string;
}

export type DevicePluginEvent =
  /** A fresh sample from a streaming or polled source (not emitted for each `sample()` call). */
  | { readonly type: 'sample'; readonly sample: DeviceSample }
  /** Every occurrence of a problem (logging is rate limited; events are not). */
  | { readonly type: 'error'; readonly error: DeviceError }
  /** The plugin's availability changed. */
  | { readonly type: 'status'; readonly status: PluginStatus }
  /** The device failed (a simulated incident, or a device that fell off the bus). */
  | { readonly type: 'failed'; readonly deviceId: string; readonly timeMs: number; readonly reason: string }
  /** A supervised child process started. */
  | { readonly type: 'process-started'; readonly pid: number | undefined }
  /** A supervised child process ended; `restartInMs` is null when it will not be restarted. */
  | {
      readonly type: 'process-exited';
      readonly exitCode: number | null;
      readonly signal: string | null;
      readonly restartInMs: number | null;
    };

export type DevicePluginListener = (event: DevicePluginEvent) => void;

export interface DevicePlugin {
  readonly kind: DeviceKind;
  /** `cpu`, `nvidia-smi`, `xbutil`, `hwmon:<name>`, `sim`. */
  readonly name: string;
  discover(): Promise<DiscoveredDevice[]>;
  sample(deviceId: string): DeviceSample | Promise<DeviceSample>;
  status(): PluginStatus;
  /** Listens to the plugin's events; returns the function that stops listening. */
  subscribe(listener: DevicePluginListener): () => void;
  close(): Promise<void>;
  /** Optional: lowers a device's power state when the controller idles its resource, and raises it again. */
  setPowerState?(deviceId: string, state: 'active' | 'idle'): Promise<void>;
}

/** A plugin whose `sample()` answers at once (CPU, nvidia-smi, simulated devices). */
export interface SyncDevicePlugin extends DevicePlugin {
  sample(deviceId: string): DeviceSample;
}

/** Core metrics, all null, plus the given extra names (null too). */
export function nullMetrics(extra: readonly string[] = []): Record<string, MetricValue> & { [K in CoreMetric]: MetricValue } {
  const m: Record<string, MetricValue> = {};
  for (const name of extra) m[name] = null;
  return { ...m, utilization: null, memoryUsedBytes: null, memoryTotalBytes: null, powerW: null, temperatureC: null };
}

/** A sample where everything is unavailable, for unknown, failed or closed devices. */
export function unavailableSample(deviceId: string, timeMs: number, reason: string, extra: readonly string[] = []): DeviceSample {
  return { deviceId, timeMs, metrics: nullMetrics(extra), errors: [reason] };
}

/**
 * A synchronous view of one device for a sampling loop (`(nowMs) => sample`). A synchronous
 * plugin is sampled on each call. A plugin whose `sample` returns a promise is asked again only
 * once its previous answer arrived; each call returns the latest answer (all null with the
 * reason until the first one).
 */
export function syncSampler(plugin: DevicePlugin, deviceId: string): (nowMs: number) => DeviceSample {
  let last: DeviceSample | undefined;
  let pending = false;
  return (nowMs) => {
    if (!pending) {
      const answer = plugin.sample(deviceId);
      if (!(answer instanceof Promise)) return (last = answer);
      pending = true;
      answer.then(
        (s) => {
          last = s;
          pending = false;
        },
        (err: unknown) => {
          last = unavailableSample(deviceId, nowMs, `plugin ${plugin.name} failed: ${err instanceof Error ? err.message : String(err)}`);
          pending = false;
        },
      );
    }
    return last ?? unavailableSample(deviceId, nowMs, `no reading from plugin ${plugin.name} yet`);
  };
}
