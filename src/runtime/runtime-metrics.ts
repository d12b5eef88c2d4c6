/**
 * A runtime's metrics side: monitor samples into its metric store (and, from an agent, on to the
 * RMS), metric queries, device plugins feeding a resource's monitor (the host's own CPUs among
 * them) with their power hooks, and the Prometheus endpoint.
 */
import { InvalidArgumentError, UnknownResourceError } from '../errors.js';
import { type DevicePlugin, syncSampler } from '../devices/plugin.js';
import { createCpuPlugin } from '../devices/cpu-plugin.js';
import type { BucketPoint, MetricPoint, MetricQuery } from './metrics/metric-store.js';
import type { DeviceSampler, ResourceSample } from './metrics/monitor.js';
import { type PrometheusEndpoint, startPrometheus } from './metrics/prometheus.js';
import { packSamples } from './metrics/batch.js';
import { Env } from './transport/frames.js';
import { Control } from './cluster/types.js';
import type { RuntimeImpl } from './runtime.js';

export class RuntimeMetrics {
  private prometheusEndpoint: PrometheusEndpoint | undefined;
  private readonly ownedPlugins: DevicePlugin[] = [];
  /** Device plugin hooks that lower or raise a device's power state, by resource. */
  readonly powerHooks = new Map<string, (state: 'active' | 'idle') => Promise<void>>();

  constructor(private readonly rt: RuntimeImpl) {}

  /** Attaches the host's CPU plugins and opens the Prometheus endpoint, as configured. */
  async start(): Promise<void> {
    const rt = this.rt;
    if (rt.monitoring) await this.attachHostPlugins();
    if (rt.options.prometheus) {
      this.prometheusEndpoint = await startPrometheus(rt.metricStore, rt.name, () => ({ deadLettersTotal: rt.deadLetters, tasks: rt.directory.size }), rt.options.prometheus);
    }
  }

  /** Closes the plugins this runtime opened, then the Prometheus endpoint. */
  async close(): Promise<void> {
    await Promise.all(this.ownedPlugins.map((p) => p.close()));
    await this.prometheusEndpoint?.close();
  }

  /** URL of the Prometheus endpoint once ready (undefined when off). */
  get prometheusUrl(): string | undefined {
    return this.prometheusEndpoint?.url;
  }

  /** An agent's monitor samples go to the RMS too. */
  shipSamples(batch: ResourceSample[]): void {
    const c = this.rt.cluster;
    if (c && c.rmsNode !== undefined) c.trySend(c.rmsNode, [Env.control, Control.metrics, packSamples(batch)]);
  }

  recordSamples(batch: readonly ResourceSample[]): void {
    const rt = this.rt;
    for (const s of batch) rt.metricStore.record(s.resource, s.timeMs, s.metrics);
    if (rt.observed && batch.length > 0) {
      rt.emit({ type: 'metrics.recorded', timeMs: rt.clock.now(), resources: [...new Set(batch.map((s) => s.resource))], samples: batch.length });
    }
  }

  metrics(resourceId: string, query: MetricQuery): Array<MetricPoint | BucketPoint> {
    if (typeof query?.metric !== 'string') throw new InvalidArgumentError('query.metric', 'must name a metric');
    return this.rt.metricStore.query(resourceId, query);
  }

  latestMetrics(resourceId: string): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const [name, point] of Object.entries(this.rt.metricStore.latest(resourceId))) out[name] = point.value;
    return out;
  }

  /**
   * Feeds a resource's monitor from a device plugin (its device `deviceId`, default the
   * resource's id), and turns the plugin's `failed` event for that device into `failResource`.
   */
  attachDevicePlugin(resourceId: string, plugin: DevicePlugin, deviceId: string = resourceId): void {
    const rt = this.rt;
    const sample = syncSampler(plugin, deviceId);
    if (plugin.setPowerState) this.powerHooks.set(resourceId, (state) => plugin.setPowerState!(deviceId, state));
    this.monitorWith(resourceId, (now) => sample(now).metrics);
    plugin.subscribe((e) => {
      if (e.type === 'failed' && e.deviceId === deviceId && !rt.isShutDown && rt.resourceActors.get(resourceId)?.up) {
        rt.log.error({ resource: resourceId, reason: e.reason }, 'device plugin reports the device failed');
        rt.failResource(resourceId);
      }
    });
  }

  /** The host's real CPUs read /proc and /sys (RAPL, thermal zones) for their monitor. */
  private async attachHostPlugins(): Promise<void> {
    const rt = this.rt;
    for (const r of rt.resourceActors.values()) {
      if (r.device.simulated || r.device.kind !== 'cpu') continue;
      const plugin = createCpuPlugin({ id: r.id, clock: rt.clock, logger: rt.log });
      this.ownedPlugins.push(plugin);
      await plugin.discover();
      this.attachDevicePlugin(r.id, plugin);
    }
  }

  /** Attaches a device sampler (a plugin's latest readings) to a resource's monitor. */
  monitorWith(resourceId: string, sampler: DeviceSampler): void {
    if (!this.rt.resourceActors.has(resourceId)) throw new UnknownResourceError(resourceId);
    if (!this.rt.monitoring) throw new InvalidArgumentError('monitor', 'monitoring is off for this runtime');
    this.rt.monitoring.attach(resourceId, sampler);
  }
}
