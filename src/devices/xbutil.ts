/**
 * Reference vendor adapter: Xilinx/AMD Alveo FPGAs through XRT's `xbutil examine ... --format
 * JSON`. One command run lists and reads every card; the JSON is read defensively (`unknown` at
 * the boundary, XRT writes most numbers as strings, hex for sizes).
 *
 * Metrics: `temperatureC` (the `fpga0` sensor, else the hottest present one), `powerW`
 * (`electrical.power_consumption_watts`), `powerMaxW`, `fanRpm`, `memoryTotalBytes` and
 * `memoryUsedBytes` (enabled memory banks and their allocated bytes, when the memory report is
 * present). XRT reports no busy fraction, so `utilization` is always null (listed unavailable).
 *
 * The default arguments ask for the reports on stdout; XRT versions differ (some want `-d <bdf>`
 * per card or refuse `--output /dev/stdout`), so `args` is configurable.
 */
import { DeviceSourceError } from './device-errors.js';
import type { MetricValue } from './plugin.js';
import { runCommand } from './run-command.js';
import type { AdapterContext, VendorAdapter, VendorDevice, VendorDeviceReading, VendorReading } from './vendor-adapter.js';

export interface XbutilAdapterOptions {
  /** Default `xbutil`. */
  command?: string;
  /** Put before `args` (tests run a fake script this way). */
  prefixArgs?: readonly string[];
  /** Default `examine --report platform electrical thermal mechanical memory --format JSON --force --output /dev/stdout`. */
  args?: readonly string[];
  /** Limit for one run on the plugin's clock (default 10 000 ms); the command is killed past it. */
  timeoutMs?: number;
}

export const defaultXbutilArgs = ['examine', '--report', 'platform', 'electrical', 'thermal', 'mechanical', 'memory', '--format', 'JSON', '--force', '--output', '/dev/stdout'];

export const XbutilMetrics = ['powerMaxW', 'fanRpm'] as const;

export function createXbutilAdapter(options: XbutilAdapterOptions = {}): VendorAdapter {
  const command = options.command ?? 'xbutil';
  const args = [...(options.prefixArgs ?? []), ...(options.args ?? defaultXbutilArgs)];
  const timeoutMs = options.timeoutMs ?? 10_000;
  const examine = async (ctx: AdapterContext): Promise<XrtExamine> => {
    const { stdout } = await runCommand({ plugin: 'xbutil', command, args, clock: ctx.clock, timeoutMs, signal: ctx.signal });
    return parseXbutilExamine(stdout, `${command} stdout`);
  };
  return {
    name: 'xbutil',
    kind: 'fpga',
    discover: async (ctx) => (await examine(ctx)).devices,
    sample: async (ctx) => (await examine(ctx)).reading,
    capabilities: (d) => ['xrt', ...(d.labels['vbnv'] ? [d.labels['vbnv']] : [])],
  };
}

export interface XrtExamine {
  devices: VendorDevice[];
  reading: VendorReading;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A number XRT wrote as a number, a decimal string or a `0x` hex string; null otherwise (`N/A`). */
function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const t = v.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t, 16);
  if (/^-?\d+(?:\.\d+)?$/.test(t)) return Number(t);
  return null;
}

const present = (v: unknown): boolean => obj(v)?.['is_present'] !== 'false' && obj(v)?.['is_present'] !== false;

/** Parses the JSON document; throws a `DeviceSourceError` when it is not JSON or has no devices array. */
export function parseXbutilExamine(text: string, source: string): XrtExamine {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new DeviceSourceError({ plugin: 'xbutil', source, reason: `not JSON (${err instanceof Error ? err.message : String(err)})`, cause: err });
  }
  const root = obj(doc);
  if (!root || !Array.isArray(root['devices'])) throw new DeviceSourceError({ plugin: 'xbutil', source, reason: 'no "devices" array in the document' });
  const host = obj(obj(root['system'])?.['host']);
  const xrtVersion = obj(host?.['xrt'])?.['version'];
  const hostDevices = new Map(list(host?.['devices']).map((d) => [String(obj(d)?.['bdf']), obj(d) ?? {}]));
  const devices: VendorDevice[] = [];
  const reading = new Map<string, VendorDeviceReading>();
  for (const entry of list(root['devices'])) {
    const d = obj(entry);
    const bdf = d?.['device_id'];
    if (!d || typeof bdf !== 'string') continue;
    const region = obj(obj(list(d['platforms'])[0])?.['static_region']);
    const vbnv = String(region?.['vbnv'] ?? hostDevices.get(bdf)?.['vbnv'] ?? 'unknown');
    const { metrics, memoryTotalBytes } = readMetrics(d);
    const id = `fpga-${bdf}`;
    const unavailable: Record<string, string> = { utilization: 'XRT reports no busy fraction' };
    if (memoryTotalBytes === null) unavailable['memoryTotalBytes'] = unavailable['memoryUsedBytes'] = 'no memory report in the xbutil output';
    devices.push({
      id,
      model: vbnv,
      ...(memoryTotalBytes === null ? {} : { memoryBytes: memoryTotalBytes }),
      labels: {
        bdf,
        vbnv,
        vendor: 'xilinx',
        ...(typeof region?.['fpga_name'] === 'string' ? { part: region['fpga_name'] } : {}),
        ...(typeof xrtVersion === 'string' ? { xrt: xrtVersion } : {}),
      },
      metrics: XbutilMetrics,
      unavailable,
    });
    reading.set(id, { metrics });
  }
  return { devices, reading };
}

function readMetrics(d: Json): { metrics: Record<string, MetricValue>; memoryTotalBytes: number | null } {
  const thermals = list(d['thermals']).filter(present).map(obj);
  const fpga = thermals.find((t) => t?.['location_id'] === 'fpga0');
  const temps = thermals.map((t) => num(t?.['temp_C'])).filter((t): t is number => t !== null);
  const electrical = obj(d['electrical']);
  const fan = list(obj(d['mechanical'])?.['fans']).filter(present).map(obj)[0];
  const banks = list(obj(obj(obj(d['memory'])?.['board'])?.['memory'])?.['memories'])
    .map(obj)
    .filter((m) => m?.['enabled'] === 'true' || m?.['enabled'] === true);
  let memoryTotalBytes: number | null = null;
  let memoryUsedBytes: number | null = null;
  for (const bank of banks) {
    const size = num(bank?.['range_bytes']);
    const used = num(obj(obj(bank?.['extended_info'])?.['usage'])?.['allocated_bytes']);
    if (size !== null) memoryTotalBytes = (memoryTotalBytes ?? 0) + size;
    if (used !== null) memoryUsedBytes = (memoryUsedBytes ?? 0) + used;
  }
  return {
    memoryTotalBytes,
    metrics: {
      utilization: null,
      temperatureC: (fpga ? num(fpga['temp_C']) : null) ?? (temps.length > 0 ? Math.max(...temps) : null),
      powerW: num(electrical?.['power_consumption_watts']),
      powerMaxW: num(electrical?.['power_consumption_max_watts']),
      fanRpm: fan ? num(fan['speed_rpm']) : null,
      memoryTotalBytes,
      memoryUsedBytes: memoryTotalBytes === null ? null : memoryUsedBytes,
    },
  };
}
