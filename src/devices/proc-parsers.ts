/**
 * Pure parsers for the Linux files the CPU plugin reads: /proc/stat, /proc/meminfo,
 * /proc/loadavg, /proc/cpuinfo, and the one-number files of sysfs (RAPL energy counters,
 * thermal zones, hwmon inputs). Each throws a `DeviceSourceError` naming the source and line.
 */
import { DeviceSourceError } from './device-errors.js';

const PLUGIN = 'cpu';

/** Jiffies a CPU spent busy and in total since boot. */
export interface CpuTimes {
  busy: number;
  total: number;
}

export interface ProcStat {
  /** The aggregate `cpu` line. */
  all: CpuTimes;
  /** `cpu0`, `cpu1`, ... by core number. */
  cores: Map<number, CpuTimes>;
}

function fail(source: string, reason: string, line?: number, plugin = PLUGIN): never {
  throw new DeviceSourceError({ plugin, source, reason, ...(line === undefined ? {} : { line }) });
}

/**
 * `cpu  user nice system idle iowait irq softirq steal guest guest_nice`: idle time is idle +
 * iowait; total is user..steal (guest time is already counted in user and nice).
 */
export function parseProcStat(text: string, source: string): ProcStat {
  let all: CpuTimes | undefined;
  const cores = new Map<number, CpuTimes>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (!line.startsWith('cpu')) continue;
    const parts = line.trim().split(/\s+/);
    const label = parts[0] ?? '';
    const coreMatch = /^cpu(\d*)$/.exec(label);
    if (!coreMatch) fail(source, `unexpected label ${JSON.stringify(label.slice(0, 20))}`, i + 1);
    const fields = parts.slice(1, 9).map(Number);
    if (fields.length < 4 || fields.some((n) => !Number.isFinite(n) || n < 0)) {
      fail(source, `expected at least 4 non-negative counters after ${label}`, i + 1);
    }
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    const idleAll = idle + iowait;
    const total = user + nice + system + idleAll + irq + softirq + steal;
    const times = { busy: total - idleAll, total };
    if (coreMatch[1] === '') all = times;
    else cores.set(Number(coreMatch[1]), times);
  }
  if (!all) fail(source, 'no aggregate cpu line');
  return { all, cores };
}

/** Busy fraction between two readings; undefined when no time passed (same jiffy). */
export function utilizationBetween(prev: CpuTimes, cur: CpuTimes): number | undefined {
  const total = cur.total - prev.total;
  const busy = cur.busy - prev.busy;
  if (!(total > 0)) return undefined;
  return Math.min(1, Math.max(0, busy / total));
}

export interface MemInfo {
  totalBytes: number;
  /** MemAvailable, or MemFree + Buffers + Cached on kernels older than 3.14. */
  availableBytes: number;
}

/** `MemTotal:       16318412 kB` lines; values are KiB. */
export function parseMeminfo(text: string, source: string): MemInfo {
  const values = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(\s+kB)?\s*$/.exec(line);
    if (!m) fail(source, `expected "Name: value kB", got ${JSON.stringify(line.slice(0, 40))}`, i + 1);
    values.set(m[1] ?? '', Number(m[2]) * (m[3] ? 1024 : 1));
  }
  const totalBytes = values.get('MemTotal');
  if (totalBytes === undefined) fail(source, 'no MemTotal');
  let availableBytes = values.get('MemAvailable');
  if (availableBytes === undefined) {
    const free = values.get('MemFree');
    if (free === undefined) fail(source, 'neither MemAvailable nor MemFree');
    availableBytes = free + (values.get('Buffers') ?? 0) + (values.get('Cached') ?? 0);
  }
  return { totalBytes, availableBytes: Math.min(availableBytes, totalBytes) };
}

/** `0.52 0.58 0.59 1/389 12345`: the 1, 5 and 15 minute load averages. */
export function parseLoadavg(text: string, source: string): [number, number, number] {
  const parts = text.trim().split(/\s+/).slice(0, 3).map(Number);
  if (parts.length < 3 || parts.some((n) => !Number.isFinite(n) || n < 0)) fail(source, 'expected three load averages', 1);
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
}

export interface CpuInfo {
  model: string;
  flags: Set<string>;
}

/** The first `model name` and `flags` (x86) or `Features` (arm) of /proc/cpuinfo; never throws. */
export function parseCpuinfo(text: string): CpuInfo {
  const model = /^(?:model name|Model|Hardware)\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? 'unknown';
  const flags = /^(?:flags|Features)\s*:\s*(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  return { model, flags: new Set(flags) };
}

/** A sysfs file holding one non-negative integer (energy_uj, temp in millidegrees, ...). */
export function parseSysfsInteger(text: string, source: string, plugin = PLUGIN): number {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) fail(source, `expected one integer, got ${JSON.stringify(t.slice(0, 40))}`, 1, plugin);
  return Number(t);
}

/**
 * Energy used between two readings of a RAPL counter that wraps at `maxRangeUj`
 * (`max_energy_range_uj`). Undefined when the counter went backwards and the range is unknown.
 */
export function energyDeltaUj(prevUj: number, curUj: number, maxRangeUj: number | undefined): number | undefined {
  if (curUj >= prevUj) return curUj - prevUj;
  if (maxRangeUj === undefined || !(maxRangeUj > 0)) return undefined;
  return maxRangeUj - prevUj + curUj;
}
