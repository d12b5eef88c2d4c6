/**
 * Reference vendor adapter for accelerators whose driver registers a Linux hwmon chip
 * (`/sys/class/hwmon/hwmonN` with a `name` file): every chip whose name matches is one device.
 * Standard hwmon files give the metrics (sysfs-interface ABI): `temp*_input` millidegrees C
 * (the hottest is `temperatureC`), `power*_input` or `power*_average` microwatts (summed into
 * `powerW`), `fan1_input` RPM (`fanRpm`). Metrics hwmon has no file for (utilization, memory) come
 * from per-vendor files under the chip's directory, named in `deviceFiles`; without them they are
 * null and listed unavailable.
 */
import path from 'node:path';
import type { DeviceKind } from './device.js';
import { DeviceSourceError } from './device-errors.js';
import type { MetricValue } from './plugin.js';
import { listDir, readInteger, readOptionalText } from './sysfs-sources.js';
import type { VendorAdapter, VendorDevice, VendorDeviceReading } from './vendor-adapter.js';

export interface HwmonAdapterOptions {
  kind: DeviceKind;
  /** The hwmon chip `name` to take (`habanalabs`, or a pattern). */
  match: string | RegExp;
  /** Where sysfs is mounted (default `/sys`). */
  sysRoot?: string;
  /** Device ids are `<idPrefix><n>`, n counting matching chips in hwmon order (default `<kind>-`). */
  idPrefix?: string;
  /** Files (relative to the hwmon chip directory, e.g. `device/busy_percent`) for metrics hwmon lacks. */
  deviceFiles?: {
    /** An integer percent, 0..100. */
    utilizationPercent?: string;
    memoryUsedBytes?: string;
    memoryTotalBytes?: string;
  };
  /** Capabilities of every device (default none). */
  capabilities?: readonly string[];
}

interface Chip {
  device: VendorDevice;
  dir: string;
}

export const HwmonMetrics = ['fanRpm'] as const;

export function createHwmonAdapter(options: HwmonAdapterOptions): VendorAdapter {
  const sysRoot = options.sysRoot ?? '/sys';
  const base = path.join(sysRoot, 'class', 'hwmon');
  const prefix = options.idPrefix ?? `${options.kind}-`;
  const matches = (name: string): boolean => (typeof options.match === 'string' ? name === options.match : options.match.test(name));
  const name = `hwmon:${typeof options.match === 'string' ? options.match : options.match.source}`;
  const files = options.deviceFiles ?? {};
  let chips: Chip[] = [];

  const scan = (): Chip[] => {
    const found: Chip[] = [];
    for (const hw of listDir(base, /^hwmon\d+$/)) {
      const dir = path.join(base, hw);
      const chipName = readOptionalText(path.join(dir, 'name'));
      if (chipName === undefined || !matches(chipName)) continue;
      const unavailable: Record<string, string> = {};
      if (!files.utilizationPercent) unavailable['utilization'] = 'hwmon has no utilization file and none is configured';
      if (!files.memoryTotalBytes) unavailable['memoryTotalBytes'] = 'hwmon has no memory file and none is configured';
      if (!files.memoryUsedBytes) unavailable['memoryUsedBytes'] = 'hwmon has no memory file and none is configured';
      const total = files.memoryTotalBytes ? readOptionalText(path.join(dir, files.memoryTotalBytes)) : undefined;
      const model = readOptionalText(path.join(dir, 'device', 'model')) ?? chipName;
      found.push({
        dir,
        device: {
          id: `${prefix}${found.length}`,
          model,
          ...(total !== undefined && /^\d+$/.test(total) ? { memoryBytes: Number(total) } : {}),
          labels: { hwmon: hw, chip: chipName },
          metrics: HwmonMetrics,
          unavailable,
        },
      });
    }
    return found;
  };

  const read = (chip: Chip): VendorDeviceReading => {
    const errors: string[] = [];
    const int = (file: string, metric: string): number | null => {
      try {
        return readInteger(path.join(chip.dir, file), name, metric);
      } catch (err) {
        errors.push(err instanceof DeviceSourceError ? err.message : String(err));
        return null;
      }
    };
    const temps = listDir(chip.dir, /^temp\d+_input$/)
      .map((f) => int(f, 'temperatureC'))
      .filter((t): t is number => t !== null);
    const powerFiles = listDir(chip.dir, /^power\d+_(?:input|average)$/);
    // One file per channel: prefer power<N>_input over power<N>_average.
    const channels = new Map<string, string>();
    for (const f of powerFiles) {
      const ch = f.replace(/_(?:input|average)$/, '');
      if (!channels.has(ch) || f.endsWith('_input')) channels.set(ch, f);
    }
    let powerW: number | null = channels.size > 0 ? 0 : null;
    for (const f of channels.values()) {
      const uw = int(f, 'powerW');
      powerW = uw === null || powerW === null ? null : powerW + uw / 1e6;
    }
    const metrics: Record<string, MetricValue> = {
      temperatureC: temps.length > 0 ? Math.max(...temps) / 1000 : null,
      powerW,
      fanRpm: listDir(chip.dir, /^fan1_input$/).length > 0 ? int('fan1_input', 'fanRpm') : null,
      utilization: files.utilizationPercent ? fraction(int(files.utilizationPercent, 'utilization')) : null,
      memoryUsedBytes: files.memoryUsedBytes ? int(files.memoryUsedBytes, 'memoryUsedBytes') : null,
      memoryTotalBytes: files.memoryTotalBytes ? int(files.memoryTotalBytes, 'memoryTotalBytes') : null,
    };
    return errors.length > 0 ? { metrics, errors } : { metrics };
  };

  return {
    name,
    kind: options.kind,
    async discover() {
      chips = scan();
      return chips.map((c) => c.device);
    },
    async sample() {
      if (chips.length === 0) chips = scan();
      return new Map(chips.map((c) => [c.device.id, read(c)]));
    },
    capabilities: () => [...(options.capabilities ?? [])],
  };
}

function fraction(percent: number | null): number | null {
  return percent === null ? null : Math.min(1, Math.max(0, percent / 100));
}
