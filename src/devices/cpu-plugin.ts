/**
 * The host CPU through Linux's own files: utilization from /proc/stat deltas (whole CPU and per
 * core), memory from /proc/meminfo, load averages from /proc/loadavg, power from RAPL energy
 * counters (wrap-around handled), temperature from thermal zones and CPU hwmon chips.
 *
 * Reads are synchronous: procfs and sysfs are in memory and a sample reads a handful of small
 * files. A source that is absent at discovery is reported in `unavailable` and its metric is
 * null; a source that breaks later (unreadable, garbage) gives null, an entry in `errors`, an
 * `error` event, and one log line per problem (see `ProblemLog`), never an exception.
 */
import os from 'node:os';
import path from 'node:path';
import { DeviceSourceError, withMetric } from './device-errors.js';
import type { DeviceMetrics, DevicePluginListener, SyncDevicePlugin, DeviceSample, DiscoveredDevice, MetricValue, PluginStatus } from './plugin.js';
import { CoreMetrics, unavailableSample } from './plugin.js';
import { type PluginCommonOptions, type PluginContext, errorText, pluginContext } from './plugin-support.js';
import { type CpuTimes, energyDeltaUj, parseCpuinfo, parseLoadavg, parseMeminfo, parseProcStat, utilizationBetween } from './proc-parsers.js';
import { type RaplZone, type TemperatureSensor, readInteger, readSource, scanCpuTemperatures, scanRapl } from './sysfs-sources.js';

export interface CpuPluginOptions extends PluginCommonOptions {
  /** The device id (default `cpu-host`, as `hostCpu()` names it). */
  id?: string;
  /** Where procfs is mounted (default `/proc`). */
  procRoot?: string;
  /** Where sysfs is mounted (default `/sys`). */
  sysRoot?: string;
  /** Report `utilizationCore<N>` for each core (default true). */
  perCore?: boolean;
}

/** Extra metric names of the CPU plugin (besides the core ones and `utilizationCore<N>`). */
export const CpuMetrics = ['memoryAvailableBytes', 'loadAvg1', 'loadAvg5', 'loadAvg15', 'powerDramW'] as const;

const notableFlags = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'amx_bf16', 'asimd', 'sve'];

interface Sources {
  device: DiscoveredDevice;
  stat: boolean;
  cores: number[];
  meminfo: boolean;
  loadavg: boolean;
  power: RaplZone[];
  dram: RaplZone[];
  temperatures: TemperatureSensor[];
}

/** Runs a read, clearing or reporting the problem under `key`; undefined when it failed. */
type Guard = <T>(key: string, read: () => T, metric?: string) => T | undefined;

interface EnergyReading {
  uj: number;
  timeMs: number;
}

export function createCpuPlugin(options: CpuPluginOptions = {}): SyncDevicePlugin {
  return new CpuPlugin(options);
}

class CpuPlugin implements SyncDevicePlugin {
  readonly kind = 'cpu' as const;
  readonly name = 'cpu';
  private readonly ctx: PluginContext;
  private readonly id: string;
  private readonly procRoot: string;
  private readonly sysRoot: string;
  private readonly perCore: boolean;
  private sources: Sources | undefined;
  private closed = false;
  private prevAll: CpuTimes | undefined;
  private readonly prevCores = new Map<number, CpuTimes>();
  private readonly lastUtil = new Map<string, number>();
  private readonly prevEnergy = new Map<string, EnergyReading>();
  private readonly lastPowerW = new Map<string, number>();

  constructor(options: CpuPluginOptions) {
    this.ctx = pluginContext('cpu', options);
    this.id = options.id ?? 'cpu-host';
    this.procRoot = options.procRoot ?? '/proc';
    this.sysRoot = options.sysRoot ?? '/sys';
    this.perCore = options.perCore ?? true;
  }

  async discover(): Promise<DiscoveredDevice[]> {
    if (this.closed) return [];
    this.sources = this.probe();
    return [this.sources.device];
  }

  status(): PluginStatus {
    if (this.closed) return { available: false, reason: 'plugin closed' };
    if (this.sources && !this.sources.stat && !this.sources.meminfo) return { available: false, reason: `nothing readable under ${this.procRoot}` };
    return { available: true };
  }

  subscribe(listener: DevicePluginListener): () => void {
    return this.ctx.emitter.subscribe(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ctx.emitter.clear();
  }

  sample(deviceId: string): DeviceSample {
    const timeMs = this.ctx.clock.now();
    if (this.closed) return unavailableSample(deviceId, timeMs, 'plugin closed');
    if (deviceId !== this.id) return unavailableSample(deviceId, timeMs, `no cpu device ${deviceId} (this plugin reports ${this.id})`);
    const src = (this.sources ??= this.probe());
    const errors: string[] = [];
    const metrics: Record<string, MetricValue> = {};
    for (const name of src.device.metrics) metrics[name] = null;
    const guard: Guard = (key, read, metric) => {
      try {
        const value = read();
        this.ctx.problems.clear(key);
        return value;
      } catch (err) {
        let e = err instanceof DeviceSourceError ? err : new DeviceSourceError({ plugin: 'cpu', source: key, reason: errorText(err), cause: err });
        if (metric) e = withMetric(e, metric);
        this.ctx.problems.report(key, e, { resource: this.id });
        errors.push(e.message);
        return undefined;
      }
    };
    if (src.stat) guard('stat', () => this.readStat(metrics, src), 'utilization');
    if (src.meminfo) guard('meminfo', () => this.readMeminfo(metrics), 'memoryUsedBytes');
    if (src.loadavg) guard('loadavg', () => this.readLoadavg(metrics), 'loadAvg1');
    if (src.power.length > 0) metrics['powerW'] = this.sumPower(src.power, timeMs, guard);
    if (src.dram.length > 0) metrics['powerDramW'] = this.sumPower(src.dram, timeMs, guard);
    if (src.temperatures.length > 0) {
      let max: number | null = null;
      for (const s of src.temperatures) {
        const c = guard(s.path, () => readInteger(s.path, 'cpu', 'temperatureC') / 1000);
        if (c !== undefined) max = max === null ? c : Math.max(max, c);
      }
      metrics['temperatureC'] = max;
    }
    const sample: DeviceSample = { deviceId, timeMs, metrics: metrics as DeviceMetrics };
    return errors.length > 0 ? { ...sample, errors } : sample;
  }

  private file(name: string): string {
    return path.join(this.procRoot, name);
  }

  private readStat(metrics: Record<string, MetricValue>, src: Sources): void {
    const file = this.file('stat');
    const stat = parseProcStat(readSource(file, 'cpu', 'utilization'), file);
    metrics['utilization'] = this.delta('all', this.prevAll, stat.all);
    this.prevAll = stat.all;
    if (!this.perCore) return;
    for (const core of src.cores) {
      const cur = stat.cores.get(core);
      if (!cur) continue; // offline core: stays null
      metrics[`utilizationCore${core}`] = this.delta(`core${core}`, this.prevCores.get(core), cur);
      this.prevCores.set(core, cur);
    }
  }

  /** Busy fraction since the previous reading; the last value when no jiffy passed. */
  private delta(key: string, prev: CpuTimes | undefined, cur: CpuTimes): number | null {
    if (!prev) return null;
    const u = utilizationBetween(prev, cur);
    if (u === undefined) return this.lastUtil.get(key) ?? null;
    this.lastUtil.set(key, u);
    return u;
  }

  private readMeminfo(metrics: Record<string, MetricValue>): void {
    const file = this.file('meminfo');
    const mem = parseMeminfo(readSource(file, 'cpu', 'memoryUsedBytes'), file);
    metrics['memoryTotalBytes'] = mem.totalBytes;
    metrics['memoryAvailableBytes'] = mem.availableBytes;
    metrics['memoryUsedBytes'] = mem.totalBytes - mem.availableBytes;
  }

  private readLoadavg(metrics: Record<string, MetricValue>): void {
    const file = this.file('loadavg');
    const [l1, l5, l15] = parseLoadavg(readSource(file, 'cpu', 'loadAvg1'), file);
    metrics['loadAvg1'] = l1;
    metrics['loadAvg5'] = l5;
    metrics['loadAvg15'] = l15;
  }

  /** Sum of the zones' watts since their previous reading; null if any zone cannot tell. */
  private sumPower(zones: RaplZone[], timeMs: number, guard: Guard): number | null {
    let sum: number | null = 0;
    for (const z of zones) {
      const uj = guard(z.energyPath, () => readInteger(z.energyPath, 'cpu', 'powerW'));
      const w = uj === undefined ? null : this.zoneWatts(z, uj, timeMs);
      sum = w === null || sum === null ? null : sum + w;
    }
    return sum;
  }

  private zoneWatts(z: RaplZone, uj: number, timeMs: number): number | null {
    const prev = this.prevEnergy.get(z.energyPath);
    this.prevEnergy.set(z.energyPath, { uj, timeMs });
    const last = this.lastPowerW.get(z.energyPath) ?? null;
    if (!prev) return null;
    const dtMs = timeMs - prev.timeMs;
    if (!(dtMs > 0)) return last;
    const dUj = energyDeltaUj(prev.uj, uj, z.maxRangeUj);
    if (dUj === undefined) return null;
    const w = dUj / (dtMs * 1000);
    this.lastPowerW.set(z.energyPath, w);
    return w;
  }

  /** Finds the sources that can be read now and takes the first readings (the delta baselines). */
  private probe(): Sources {
    const unavailable: Record<string, string> = {};
    const now = this.ctx.clock.now();
    const tryRead = <T>(file: string, parse: (text: string) => T): T | undefined => {
      try {
        return parse(readSource(file, 'cpu'));
      } catch (err) {
        return void (unavailable[file] = err instanceof DeviceSourceError ? err.reason : errorText(err));
      }
    };
    const statFile = this.file('stat');
    const stat = tryRead(statFile, (t) => parseProcStat(t, statFile));
    const memFile = this.file('meminfo');
    const mem = tryRead(memFile, (t) => parseMeminfo(t, memFile));
    const loadFile = this.file('loadavg');
    const load = tryRead(loadFile, (t) => parseLoadavg(t, loadFile));
    const info = parseCpuinfo(tryRead(this.file('cpuinfo'), (t) => t) ?? '');
    delete unavailable[this.file('cpuinfo')];
    const rapl = scanRapl(this.sysRoot, 'cpu');
    const temps = scanCpuTemperatures(this.sysRoot, 'cpu');

    const byMetric: Record<string, string> = {};
    const missing = (metrics: string[], file: string): void => {
      for (const m of metrics) byMetric[m] = `${file}: ${unavailable[file] ?? 'unreadable'}`;
    };
    if (!stat) missing(['utilization'], statFile);
    if (!mem) missing(['memoryUsedBytes', 'memoryTotalBytes', 'memoryAvailableBytes'], memFile);
    if (!load) missing(['loadAvg1', 'loadAvg5', 'loadAvg15'], loadFile);
    if (rapl.reason) byMetric['powerW'] = rapl.reason;
    if (temps.reason) byMetric['temperatureC'] = temps.reason;

    if (stat) this.prevAll = stat.all;
    const cores = stat ? [...stat.cores.keys()].sort((a, b) => a - b) : [];
    if (stat) for (const [core, times] of stat.cores) this.prevCores.set(core, times);
    for (const z of [...rapl.power, ...rapl.dram]) {
      try {
        this.prevEnergy.set(z.energyPath, { uj: readInteger(z.energyPath, 'cpu'), timeMs: now });
      } catch {
        // It read a moment ago; the first sample reports it.
      }
    }
    const metrics = [
      ...CoreMetrics,
      ...CpuMetrics.filter((m) => m !== 'powerDramW' || rapl.dram.length > 0),
      ...(this.perCore ? cores.map((c) => `utilizationCore${c}`) : []),
    ];
    const coreCount = cores.length > 0 ? cores.length : os.cpus().length;
    const device: DiscoveredDevice = {
      id: this.id,
      kind: 'cpu',
      model: info.model,
      ...(mem ? { memoryBytes: mem.totalBytes } : {}),
      capabilities: [os.arch(), ...notableFlags.filter((f) => info.flags.has(f))],
      labels: { model: info.model, cores: String(coreCount) },
      metrics,
      unavailable: byMetric,
    };
    if (Object.keys(byMetric).length > 0) this.ctx.log.info({ resource: this.id, unavailable: byMetric }, 'cpu metrics unavailable');
    return { device, stat: !!stat, cores, meminfo: !!mem, loadavg: !!load, power: rapl.power, dram: rapl.dram, temperatures: temps.sensors };
  }
}
