/** Runtime options: every field with its default and unit. */
import { InvalidArgumentError } from '../errors.js';
import type { Device } from '../devices/device.js';
import { hostCpu } from '../devices/host-cpu.js';
import type { MailboxOptions, OverflowPolicy } from '../actors/mailbox.js';
import { defaultSupervision, resolveSupervision, type ResolvedSupervision } from '../actors/supervision.js';
import type { SupervisionOptions } from '../actors/task.js';
import { type Clock, systemClock } from './clock.js';
import type { Logger, LoggerOptions } from './logger.js';
import type { AnyTaskDefinition } from '../actors/task.js';
import type { ClusterOptions } from './cluster/types.js';
import { defaultLinkLimits } from './transport/link.js';
import { type CodecRegistry, defaultCodecRegistry } from '../codecs/registry.js';
import { type MonitorOptions, resolveMonitorOptions } from './metrics/monitor.js';
import type { MetricStoreOptions } from './metrics/metric-store.js';
import type { PrometheusOptions } from './metrics/prometheus.js';
import type { ResolvedClusterOptions } from './cluster/cluster-node.js';
import type { RuntimeControllerOptions } from './controller-host.js';
import type { PredictorOptions } from './predictor-service.js';

export interface RuntimeOptions extends ClusterOptions {
  /** Name of this runtime (node) in logs and events (default `godwit`). */
  name?: string;
  /** The resources this node owns (default: the host's CPU alone). */
  devices?: Device[];
  /** A pino logger, or options for the default one (JSON lines on stderr, level `warn`). */
  logger?: Logger | LoggerOptions;
  /** Time source for timers, timeouts, backoff and snapshots (default: the system clock). */
  clock?: Clock;
  /** Default mailbox of every task: capacity 10,000 messages, overflow `reject`. */
  mailbox?: MailboxOptions;
  /**
   * Default supervision of every task (directive `restart`, 3 restarts within 5000 ms, backoff
   * 10 ms doubling to 1000 ms); `strategy` applies to the top-level tasks of each resource.
   */
  supervision?: SupervisionOptions;
  /** Timeout of `ask` when the call gives none, in ms (default 5000). */
  askTimeoutMs?: number;
  /** Whole-task migrations this node runs at once; more wait their turn, first come first served (default 8). */
  maxConcurrentMigrations?: number;
  /** Most messages a task handles in one turn before yielding the event loop (default 256). */
  throughput?: number;
  /** Least time between two snapshots of a busy task, in ms (default 1000; `Infinity`: only the one after init). */
  snapshotIntervalMs?: number;
  /**
   * Task definitions this node can run when another node places, or the RMS re-places, a task
   * here (looked up by name). Tasks spawned locally need not be listed.
   */
  tasks?: AnyTaskDefinition[];
  /** The resource monitors: sampling `intervalMs` (10 to 1000, default 1000) and `flushIntervalMs` (default 1000); `false` turns them off. */
  monitor?: MonitorOptions | false;
  /** How much history the metric store keeps per resource and metric (see docs/monitoring.md). */
  metrics?: MetricStoreOptions;
  /** Serve the latest metrics in the Prometheus text format on `http://host:port/metrics` (default off). */
  prometheus?: PrometheusOptions;
  /** Codecs for snapshots (default: the shared registry with cbor, json and lazy arrow). */
  codecs?: CodecRegistry;
  /**
   * Push every local message, reply and state through its codec (default false): state or
   * messages that could not cross a node boundary fail now, in tests, rather than at migration.
   */
  simulateSerialization?: boolean;
  /**
   * Serve the debug socket (see docs/debug-socket.md): bound to 127.0.0.1 unless `host` says
   * otherwise, `port` 0 picks a free one, `token` is required, read-only unless `admin`.
   */
  debug?: { host?: string; port?: number; token: string; admin?: boolean };
  /**
   * The migration controller (see docs/controller.md): runs on the RMS, or on a single-process
   * runtime; ignored on an agent. Default mode `off`.
   */
  controller?: RuntimeControllerOptions;
  /**
   * The resources' predictors (see docs/forecasting.md): on the RMS or a single process with
   * monitors on; default on when `controller` is set. `false` turns them off.
   */
  predictors?: PredictorOptions | false;
}

export interface ResolvedOptions {
  name: string;
  devices: Device[];
  clock: Clock;
  mailboxCapacity: number;
  overflow: OverflowPolicy;
  supervision: ResolvedSupervision;
  askTimeoutMs: number;
  maxConcurrentMigrations: number;
  throughput: number;
  snapshotIntervalMs: number;
  tasks: AnyTaskDefinition[];
  monitor: Required<MonitorOptions> | undefined;
  metrics: MetricStoreOptions;
  prometheus: PrometheusOptions | undefined;
  codecs: CodecRegistry;
  simulateSerialization: boolean;
  cluster: ResolvedClusterOptions | undefined;
  debug: { host?: string; port?: number; token: string; admin?: boolean } | undefined;
  controller: RuntimeControllerOptions | undefined;
  predictors: PredictorOptions | undefined;
}

function positive(name: string, value: number | undefined, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || (integer && value !== Infinity && !Number.isInteger(value))) {
    throw new InvalidArgumentError(name, `must be a positive ${integer ? 'integer' : 'number'} (or Infinity), got ${String(value)}`);
  }
  return value;
}

export function resolveOptions(o: RuntimeOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('options', 'must be an object');
  const overflow = o.mailbox?.overflow ?? 'reject';
  if (overflow !== 'reject' && overflow !== 'drop') throw new InvalidArgumentError('mailbox.overflow', 'must be reject or drop');
  const devices = o.devices ?? [hostCpu()];
  const ids = new Set<string>();
  for (const d of devices) {
    if (ids.has(d.id)) throw new InvalidArgumentError('devices', `duplicate device id ${d.id}`);
    ids.add(d.id);
  }
  return {
    name: o.name ?? 'godwit',
    devices,
    clock: o.clock ?? systemClock(),
    mailboxCapacity: positive('mailbox.capacity', o.mailbox?.capacity, 10_000, true),
    overflow,
    supervision: resolveSupervision(defaultSupervision, o.supervision, 'supervision'),
    askTimeoutMs: positive('askTimeoutMs', o.askTimeoutMs, 5000),
    maxConcurrentMigrations: positive('maxConcurrentMigrations', o.maxConcurrentMigrations, 8, true),
    throughput: positive('throughput', o.throughput, 256, true),
    snapshotIntervalMs: positive('snapshotIntervalMs', o.snapshotIntervalMs, 1000),
    tasks: o.tasks ?? [],
    monitor: o.monitor === false ? undefined : resolveMonitorOptions(o.monitor),
    metrics: o.metrics ?? {},
    prometheus: o.prometheus,
    codecs: o.codecs ?? defaultCodecRegistry,
    simulateSerialization: o.simulateSerialization ?? false,
    debug: o.debug,
    controller: o.controller,
    predictors: o.predictors === false || (o.predictors === undefined && o.controller === undefined) ? undefined : (o.predictors ?? {}),
    cluster: resolveCluster(o),
  };
}

function resolveCluster(o: RuntimeOptions): ResolvedClusterOptions | undefined {
  if (!o.listen && !o.join && !o.rms) return undefined;
  const secret = o.auth?.secret;
  if (typeof secret !== 'string' || secret.length < 8) {
    throw new InvalidArgumentError('auth.secret', 'a clustered node needs a shared secret of at least 8 characters');
  }
  if (o.join !== undefined && !/^wss?:\/\//.test(o.join)) throw new InvalidArgumentError('join', `must be a ws:// or wss:// URL, got ${o.join}`);
  const listenOpt = o.listen === true ? {} : o.listen || undefined;
  const rms = o.rms ?? o.join === undefined;
  return {
    // Every clustered node listens: peers dial it directly (the RMS is not on the data path).
    listen: { host: (listenOpt && listenOpt.host) ?? '127.0.0.1', port: (listenOpt && listenOpt.port) ?? 0 },
    join: o.join,
    rms,
    secret,
    tls: o.tls,
    heartbeatIntervalMs: positive('heartbeatIntervalMs', o.heartbeatIntervalMs, 500),
    failureTimeoutMs: positive('failureTimeoutMs', o.failureTimeoutMs, 3000),
    limits: {
      maxFrameBytes: positive('maxFrameBytes', o.maxFrameBytes, defaultLinkLimits.maxFrameBytes, true),
      maxPendingBytes: positive('maxPendingBytes', o.maxPendingBytes, defaultLinkLimits.maxPendingBytes),
      highWaterBytes: defaultLinkLimits.highWaterBytes,
    },
    snapshotShipIntervalMs: positive('snapshotShipIntervalMs', o.snapshotShipIntervalMs, 1000),
    directoryCacheSize: positive('directoryCacheSize', o.directoryCacheSize, 100_000, true),
    locateGraceMs: positive('locateGraceMs', o.locateGraceMs, 1000),
    replayBufferBytes: o.sendReplay === false ? undefined : positive('replayBufferBytes', o.replayBufferBytes, 64 * 2 ** 20),
  };
}
