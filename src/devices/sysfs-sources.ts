/**
 * Finding and reading the sysfs sources of the CPU plugin (and of the hwmon adapter): RAPL
 * energy counters under class/powercap, thermal zones under class/thermal and hwmon chips under
 * class/hwmon. Paths are built from an injectable sysfs root so tests run on fixture trees.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DeviceSourceError, withMetric } from './device-errors.js';
import { parseSysfsInteger } from './proc-parsers.js';

/** Reads a whole small file; a missing, unreadable or directory path is a `DeviceSourceError`. */
export function readSource(file: string, plugin: string, metric?: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new DeviceSourceError({ plugin, source: file, reason: fsReason(err), cause: err, ...(metric ? { metric } : {}) });
  }
}

export function readInteger(file: string, plugin: string, metric?: string): number {
  try {
    return parseSysfsInteger(readSource(file, plugin, metric), file, plugin);
  } catch (err) {
    throw err instanceof DeviceSourceError && metric ? withMetric(err, metric) : err;
  }
}

/** Reads a one-line text file, or undefined when it cannot be read. */
export function readOptionalText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Entry names of a directory, sorted naturally (`hwmon2` before `hwmon10`); [] when absent. */
export function listDir(dir: string, pattern?: RegExp): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => !pattern || pattern.test(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

export function fsReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'missing';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENODATA':
    case 'EIO':
      return 'the driver returned no data';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

export interface RaplZone {
  /** Directory name, e.g. `intel-rapl:0` or `intel-rapl:0:1`. */
  zone: string;
  /** The zone's `name` file: `package-0`, `dram`, `core`, `uncore`, `psys`. */
  name: string;
  energyPath: string;
  /** `max_energy_range_uj`: where the counter wraps; undefined when unreadable. */
  maxRangeUj: number | undefined;
  /** True for a top-level zone (`intel-rapl:N`). */
  topLevel: boolean;
}

export interface RaplScan {
  /** Readable zones whose sum is the CPU's power: the packages, else psys. */
  power: RaplZone[];
  /** Readable DRAM zones. */
  dram: RaplZone[];
  /** Why power is unavailable when `power` is empty. */
  reason: string | undefined;
}

export function scanRapl(sysRoot: string, plugin: string): RaplScan {
  const base = path.join(sysRoot, 'class', 'powercap');
  const readable: RaplZone[] = [];
  const problems: string[] = [];
  for (const zone of listDir(base, /^intel-rapl:\d+(?::\d+)*$/)) {
    const dir = path.join(base, zone);
    const energyPath = path.join(dir, 'energy_uj');
    try {
      readInteger(energyPath, plugin, 'powerW');
    } catch (err) {
      problems.push(`${energyPath}: ${err instanceof DeviceSourceError ? err.reason : String(err)}`);
      continue;
    }
    const max = readOptionalText(path.join(dir, 'max_energy_range_uj'));
    readable.push({
      zone,
      name: readOptionalText(path.join(dir, 'name')) ?? zone,
      energyPath,
      maxRangeUj: max !== undefined && /^\d+$/.test(max) ? Number(max) : undefined,
      topLevel: /^intel-rapl:\d+$/.test(zone),
    });
  }
  const packages = readable.filter((z) => z.topLevel && z.name.startsWith('package'));
  const power = packages.length > 0 ? packages : readable.filter((z) => z.topLevel && z.name === 'psys');
  const dram = readable.filter((z) => z.name === 'dram');
  let reason: string | undefined;
  if (power.length === 0) {
    reason = problems.length > 0 ? `no readable RAPL package zone (${problems.join('; ')})` : `no RAPL zone under ${base}`;
  }
  return { power, dram, reason };
}

export interface TemperatureSensor {
  path: string;
  /** `coretemp/Package id 0`, `thermal_zone0/x86_pkg_temp`. */
  label: string;
}

const cpuHwmonNames = new Set(['coretemp', 'k10temp', 'zenpower', 'cpu_thermal', 'cpu-thermal', 'soc_thermal']);
const cpuZoneType = /x86_pkg_temp|cpu|soc|pkg/i;

/**
 * CPU temperature sensors: hwmon chips of CPU drivers (coretemp, k10temp, ...) and thermal zones
 * of CPU types; when there are none, every thermal zone (e.g. `acpitz`). Only sensors that read
 * as an integer now are kept.
 */
export function scanCpuTemperatures(sysRoot: string, plugin: string): { sensors: TemperatureSensor[]; reason: string | undefined } {
  const cpu: TemperatureSensor[] = [];
  const other: TemperatureSensor[] = [];
  const hwmonBase = path.join(sysRoot, 'class', 'hwmon');
  for (const chip of listDir(hwmonBase, /^hwmon\d+$/)) {
    const dir = path.join(hwmonBase, chip);
    const name = readOptionalText(path.join(dir, 'name')) ?? chip;
    if (!cpuHwmonNames.has(name)) continue;
    for (const input of listDir(dir, /^temp\d+_input$/)) {
      const label = readOptionalText(path.join(dir, input.replace('_input', '_label'))) ?? input;
      cpu.push({ path: path.join(dir, input), label: `${name}/${label}` });
    }
  }
  const thermalBase = path.join(sysRoot, 'class', 'thermal');
  for (const zone of listDir(thermalBase, /^thermal_zone\d+$/)) {
    const type = readOptionalText(path.join(thermalBase, zone, 'type')) ?? 'unknown';
    const sensor = { path: path.join(thermalBase, zone, 'temp'), label: `${zone}/${type}` };
    (cpuZoneType.test(type) ? cpu : other).push(sensor);
  }
  const candidates = cpu.length > 0 ? cpu : other;
  const sensors = candidates.filter((s) => {
    try {
      readInteger(s.path, plugin, 'temperatureC');
      return true;
    } catch {
      return false;
    }
  });
  const reason =
    sensors.length > 0
      ? undefined
      : candidates.length > 0
        ? `no readable temperature sensor (${candidates.map((s) => s.path).join(', ')})`
        : `no thermal zone or CPU hwmon sensor under ${sysRoot}`;
  return { sensors, reason };
}
