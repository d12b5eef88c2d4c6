/**
 * The query godwit runs nvidia-smi with, and the parser of its CSV lines
 * (`--format=csv,noheader,nounits`): one line per GPU per tick, fields in query order:
 *
 *   0, GPU-5f4c1d2e-..., NVIDIA H100 80GB HBM3, 87, 61234, 81559, 612.45, 67, 1980, 0x0000000000000000
 *
 * Units without the unit suffix: utilization %, memory MiB, power W, temperature C, clocks MHz,
 * throttle reasons a hex bitmask. `[N/A]`, `[Not Supported]` and the other bracketed states
 * nvidia-smi prints for a field it cannot read are null (unavailable), not errors.
 */
import { DeviceSourceError } from './device-errors.js';
import type { MetricValue } from './plugin.js';

export const NvidiaQueryFields = [
  'index',
  'uuid',
  'name',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'power.draw',
  'temperature.gpu',
  'clocks.sm',
  'clocks_throttle_reasons.active',
] as const;

/** Extra metrics of the GPU plugin: SM clock, and the active clock throttle reasons (bitmask). */
export const NvidiaMetrics = ['clockSmMHz', 'throttleReasons'] as const;

/** Bits of `clocks_throttle_reasons.active` (nvml.h `nvmlClocksThrottleReason*`). */
export const ThrottleReasons = {
  GPU_IDLE: 0x1,
  APPLICATIONS_CLOCKS_SETTING: 0x2,
  SW_POWER_CAP: 0x4,
  HW_SLOWDOWN: 0x8,
  SYNC_BOOST: 0x10,
  SW_THERMAL_SLOWDOWN: 0x20,
  HW_THERMAL_SLOWDOWN: 0x40,
  HW_POWER_BRAKE_SLOWDOWN: 0x80,
  DISPLAY_CLOCK_SETTING: 0x100,
} as const;

/** Names of the bits set in a throttle-reasons mask (`['SW_POWER_CAP']`). */
export function describeThrottleReasons(mask: number): string[] {
  return Object.entries(ThrottleReasons)
    .filter(([, bit]) => (mask & bit) !== 0)
    .map(([name]) => name);
}

/** The arguments for a streaming query every `intervalMs` (omit it for a one-shot query). */
export function nvidiaSmiArgs(intervalMs?: number): string[] {
  const args = [`--query-gpu=${NvidiaQueryFields.join(',')}`, '--format=csv,noheader,nounits'];
  if (intervalMs !== undefined) args.push('-lms', String(Math.max(1, Math.round(intervalMs))));
  return args;
}

export interface GpuLine {
  index: number;
  uuid: string;
  name: string;
  /**
   * The metrics this line gives a value for: a number, or null for a bracketed "not available".
   * A field that is garbage is left out (the caller keeps its last value) and named in `badFields`.
   */
  metrics: Record<string, MetricValue>;
  badFields: string[];
}

const MiB = 1024 * 1024;

/** Field position -> metric name and conversion to godwit's units. */
const metricFields: ReadonlyArray<readonly [number, string, (v: number) => number]> = [
  [3, 'utilization', (v) => v / 100],
  [4, 'memoryUsedBytes', (v) => v * MiB],
  [5, 'memoryTotalBytes', (v) => v * MiB],
  [6, 'powerW', (v) => v],
  [7, 'temperatureC', (v) => v],
  [8, 'clockSmMHz', (v) => v],
];

function isNotAvailable(field: string): boolean {
  // [N/A], [Not Supported], [Unknown Error], [GPU requires reset], [Insufficient Permissions], N/A
  return (field.startsWith('[') && field.endsWith(']')) || field === 'N/A';
}

function parseNumber(field: string): number | undefined {
  if (!/^-?\d+(?:\.\d+)?$/.test(field)) return undefined;
  return Number(field);
}

/**
 * Parses one line. Throws a `DeviceSourceError` when the line is not a GPU line at all (wrong
 * field count, no index): nvidia-smi's own error messages land here.
 */
export function parseNvidiaSmiLine(line: string, source: string, lineNumber?: number): GpuLine {
  const fail = (reason: string): never => {
    throw new DeviceSourceError({ plugin: 'nvidia-smi', source, reason, ...(lineNumber === undefined ? {} : { line: lineNumber }) });
  };
  const fields = line.split(',').map((f) => f.trim());
  if (fields.length !== NvidiaQueryFields.length) {
    fail(`expected ${NvidiaQueryFields.length} comma-separated fields, got ${fields.length}: ${JSON.stringify(line.slice(0, 120))}`);
  }
  const indexField = fields[0] ?? '';
  if (!/^\d+$/.test(indexField)) fail(`bad GPU index ${JSON.stringify(indexField.slice(0, 20))}`);
  const metrics: Record<string, MetricValue> = {};
  const badFields: string[] = [];
  for (const [pos, metric, convert] of metricFields) {
    const field = fields[pos] ?? '';
    if (isNotAvailable(field)) metrics[metric] = null;
    else {
      const n = parseNumber(field);
      if (n === undefined) badFields.push(NvidiaQueryFields[pos] ?? metric);
      else metrics[metric] = convert(n);
    }
  }
  const throttle = fields[9] ?? '';
  if (isNotAvailable(throttle)) metrics['throttleReasons'] = null;
  else if (/^0x[0-9a-fA-F]{1,16}$/.test(throttle)) metrics['throttleReasons'] = Number(BigInt(throttle) & 0xffffffffn);
  else badFields.push('clocks_throttle_reasons.active');
  return { index: Number(indexField), uuid: fields[1] ?? '', name: fields[2] ?? '', metrics, badFields };
}
