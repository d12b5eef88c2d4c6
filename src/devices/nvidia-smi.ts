/**
 * NVIDIA GPUs through nvidia-smi. `discover()` runs one query (bounded by `discoverTimeoutMs`),
 * then starts `nvidia-smi --query-gpu=... -lms <intervalMs>` as a supervised child process whose
 * lines keep each GPU's latest values; `sample()` returns them without running anything.
 *
 * Unavailable, and how it shows:
 * - no nvidia-smi (ENOENT) or not permitted: `discover()` gives [], `status()` says why, nothing
 *   is retried until `discover()` is called again;
 * - nvidia-smi fails (driver not loaded, no devices): same, with its message in the reason;
 * - a field printed as `[N/A]` / `[Not Supported]`: that metric is null;
 * - a line that does not parse: a `DeviceSourceError` (logged once a minute at most), the
 *   metrics keep their last values;
 * - the stream ends: restarted with backoff; values older than `staleAfterMs` read as null.
 */
import { CommandFailures, DeviceCommandError, DeviceSourceError } from './device-errors.js';
import { type GpuLine, NvidiaMetrics, nvidiaSmiArgs, parseNvidiaSmiLine } from './nvidia-smi-parser.js';
import {
  CoreMetrics,
  type DeviceMetrics,
  type SyncDevicePlugin,
  type DevicePluginListener,
  type DeviceSample,
  type DiscoveredDevice,
  type MetricValue,
  type PluginStatus,
  nullMetrics,
  unavailableSample,
} from './plugin.js';
import { type PluginCommonOptions, type PluginContext, pluginContext } from './plugin-support.js';
import { runCommand } from './run-command.js';
import { type RestartOptions, SupervisedProcess } from './supervised-process.js';

export interface NvidiaSmiPluginOptions extends PluginCommonOptions {
  /** The executable (default `nvidia-smi`, looked up on PATH). */
  command?: string;
  /** Arguments put before the query arguments (default none; tests run a fake script this way). */
  prefixArgs?: readonly string[];
  /** Sampling period of the stream, nvidia-smi's `-lms` (default 1000 ms). */
  intervalMs?: number;
  /** Limit for the discovery query on the plugin's clock (default 10 000 ms). */
  discoverTimeoutMs?: number;
  /** Values older than this read as null (default 5 x intervalMs, at least 5000 ms). */
  staleAfterMs?: number;
  /** Backoff of stream restarts (default 1 s doubling to 60 s, reset after 30 s of running). */
  restart?: RestartOptions;
  /** Device ids are `<idPrefix><index>` (default `gpu-`). */
  idPrefix?: string;
}

interface GpuState {
  id: string;
  index: number;
  uuid: string;
  name: string;
  metrics: Record<string, MetricValue>;
  /** When the latest line for this GPU arrived. */
  timeMs: number;
}

const metricNames = [...CoreMetrics, ...NvidiaMetrics];

export function createNvidiaSmiPlugin(options: NvidiaSmiPluginOptions = {}): SyncDevicePlugin {
  return new NvidiaSmiPlugin(options);
}

class NvidiaSmiPlugin implements SyncDevicePlugin {
  readonly kind = 'gpu' as const;
  readonly name = 'nvidia-smi';
  private readonly ctx: PluginContext;
  private readonly command: string;
  private readonly prefixArgs: readonly string[];
  private readonly intervalMs: number;
  private readonly discoverTimeoutMs: number;
  private readonly staleAfterMs: number;
  private readonly idPrefix: string;
  private readonly gpus = new Map<number, GpuState>();
  private readonly byId = new Map<string, GpuState>();
  private readonly stream: SupervisedProcess;
  private readonly abort = new AbortController();
  private pendingDiscover: Promise<unknown> | undefined;
  private current: PluginStatus = { available: false, reason: 'not discovered yet' };
  private closed = false;

  constructor(options: NvidiaSmiPluginOptions) {
    this.ctx = pluginContext('nvidia-smi', options);
    this.command = options.command ?? 'nvidia-smi';
    this.prefixArgs = options.prefixArgs ?? [];
    this.intervalMs = options.intervalMs ?? 1000;
    this.discoverTimeoutMs = options.discoverTimeoutMs ?? 10_000;
    this.staleAfterMs = options.staleAfterMs ?? Math.max(5000, 5 * this.intervalMs);
    this.idPrefix = options.idPrefix ?? 'gpu-';
    this.stream = new SupervisedProcess({
      plugin: this.name,
      command: this.command,
      args: [...this.prefixArgs, ...nvidiaSmiArgs(this.intervalMs)],
      clock: this.ctx.clock,
      ...(options.restart ? { restart: options.restart } : {}),
      onLine: (line, n) => this.onStreamLine(line, n),
      onStarted: (pid) => {
        this.ctx.log.debug({ pid }, 'nvidia-smi stream started');
        this.ctx.emitter.emit({ type: 'process-started', pid });
      },
      onExited: (err, restartInMs) => this.onStreamExit(err, restartInMs),
    });
  }

  status(): PluginStatus {
    return this.current;
  }

  subscribe(listener: DevicePluginListener): () => void {
    return this.ctx.emitter.subscribe(listener);
  }

  async discover(): Promise<DiscoveredDevice[]> {
    if (this.closed) return [];
    const run = this.query();
    this.pendingDiscover = run.catch(() => undefined);
    const devices = await run;
    if (devices.length > 0 && !this.closed) this.stream.start();
    return devices;
  }

  sample(deviceId: string): DeviceSample {
    const now = this.ctx.clock.now();
    if (this.closed) return unavailableSample(deviceId, now, 'plugin closed', NvidiaMetrics);
    const gpu = this.byId.get(deviceId);
    if (!gpu) {
      const why = this.current.available ? `no GPU ${deviceId} in nvidia-smi's output` : `nvidia-smi unavailable: ${this.current.reason ?? 'unknown'}`;
      return unavailableSample(deviceId, now, why, NvidiaMetrics);
    }
    const ageMs = now - gpu.timeMs;
    if (ageMs > this.staleAfterMs) {
      const restart = this.stream.nextStartAtMs === undefined ? '' : ` (restart in ${Math.round(this.stream.nextStartAtMs - now)} ms)`;
      return { deviceId, timeMs: gpu.timeMs, metrics: nullMetrics(NvidiaMetrics), errors: [`no data from nvidia-smi for ${Math.round(ageMs)} ms${restart}`] };
    }
    const sample: DeviceSample = { deviceId, timeMs: gpu.timeMs, metrics: { ...gpu.metrics } as DeviceMetrics };
    return this.stream.running ? sample : { ...sample, errors: ['nvidia-smi stream is not running; values are the last it printed'] };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    await Promise.all([this.pendingDiscover, this.stream.stop()]);
    this.setStatus({ available: false, reason: 'plugin closed' });
    this.ctx.emitter.clear();
  }

  private async query(): Promise<DiscoveredDevice[]> {
    let stdout: string;
    try {
      ({ stdout } = await runCommand({
        plugin: this.name,
        command: this.command,
        args: [...this.prefixArgs, ...nvidiaSmiArgs()],
        clock: this.ctx.clock,
        timeoutMs: this.discoverTimeoutMs,
        signal: this.abort.signal,
      }));
    } catch (err) {
      if (!(err instanceof DeviceCommandError)) throw err;
      if (err.failure === CommandFailures.NOT_FOUND) this.ctx.log.info({ command: this.command }, 'nvidia-smi not found: no NVIDIA GPUs');
      else if (err.failure !== CommandFailures.ABORTED) this.ctx.problems.report('discover', err);
      this.setStatus({ available: false, reason: err.message });
      return [];
    }
    this.ctx.problems.clear('discover');
    const devices: DiscoveredDevice[] = [];
    const lines = stdout.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i]?.trim() ?? '';
      if (text === '') continue;
      let line: GpuLine;
      try {
        line = parseNvidiaSmiLine(text, `${this.command} stdout`, i + 1);
      } catch (err) {
        if (err instanceof DeviceSourceError) this.ctx.problems.report('discover-line', err);
        continue;
      }
      const gpu = this.update(line);
      devices.push(this.describe(gpu));
    }
    this.setStatus(devices.length > 0 ? { available: true } : { available: false, reason: 'nvidia-smi listed no GPU' });
    return devices;
  }

  private describe(gpu: GpuState): DiscoveredDevice {
    const unavailable: Record<string, string> = {};
    for (const name of metricNames) if (gpu.metrics[name] === null) unavailable[name] = 'nvidia-smi reports it as not available on this GPU';
    const total = gpu.metrics['memoryTotalBytes'];
    return {
      id: gpu.id,
      kind: 'gpu',
      model: gpu.name,
      ...(typeof total === 'number' ? { memoryBytes: total } : {}),
      capabilities: ['cuda'],
      labels: { uuid: gpu.uuid, index: String(gpu.index), vendor: 'nvidia' },
      metrics: metricNames,
      unavailable,
    };
  }

  /** Applies a parsed line to its GPU's state; a garbage field keeps the metric's last value. */
  private update(line: GpuLine): GpuState {
    let gpu = this.gpus.get(line.index);
    if (!gpu || gpu.uuid !== line.uuid) {
      gpu = { id: `${this.idPrefix}${line.index}`, index: line.index, uuid: line.uuid, name: line.name, metrics: nullMetrics(NvidiaMetrics), timeMs: 0 };
      this.gpus.set(line.index, gpu);
      this.byId.set(gpu.id, gpu);
    }
    Object.assign(gpu.metrics, line.metrics);
    gpu.timeMs = this.ctx.clock.now();
    return gpu;
  }

  private onStreamLine(text: string, lineNumber: number): void {
    if (text.trim() === '') return;
    const source = `${this.command} stream`;
    let line: GpuLine;
    try {
      line = parseNvidiaSmiLine(text, source, lineNumber);
    } catch (err) {
      if (err instanceof DeviceSourceError) this.ctx.problems.report('line', err);
      return;
    }
    if (line.badFields.length > 0) {
      const reason = `unparseable ${line.badFields.join(', ')} for GPU ${line.index}; keeping the last values`;
      this.ctx.problems.report('field', new DeviceSourceError({ plugin: this.name, source, reason, line: lineNumber, metric: line.badFields.join(',') }));
    }
    const gpu = this.update(line);
    if (!this.current.available) this.setStatus({ available: true });
    this.ctx.emitter.emit({ type: 'sample', sample: { deviceId: gpu.id, timeMs: gpu.timeMs, metrics: { ...gpu.metrics } as DeviceMetrics } });
  }

  private onStreamExit(err: DeviceCommandError | undefined, restartInMs: number | null): void {
    this.ctx.emitter.emit({ type: 'process-exited', exitCode: err?.exitCode ?? null, signal: err?.signal ?? null, restartInMs });
    if (!err || this.closed) return;
    this.ctx.emitter.emit({ type: 'error', error: err });
    if (restartInMs === null) {
      this.ctx.log.warn({ err }, 'nvidia-smi stream cannot be started again');
      this.setStatus({ available: false, reason: err.message });
    } else {
      this.ctx.log.warn({ err, restartInMs }, 'nvidia-smi stream ended; restarting');
    }
  }

  private setStatus(next: PluginStatus): void {
    if (next.available === this.current.available && next.reason === this.current.reason) return;
    this.current = next;
    this.ctx.emitter.emit({ type: 'status', status: next });
  }
}
