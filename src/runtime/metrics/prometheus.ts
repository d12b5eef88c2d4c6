/**
 * The one file that imports prom-client: the latest reading of every resource metric in the
 * Prometheus text format, on `GET /metrics` of an optional HTTP endpoint. Each metric becomes a
 * gauge `godwit_<metric in snake case>` labelled by node and resource; an unavailable reading is
 * left out of the scrape (Prometheus has no null), never reported as 0.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import type { MetricStore } from './metric-store.js';

export interface PrometheusOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
}

export interface PrometheusEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

export function prometheusName(metric: string): string {
  const snake = metric
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^a-zA-Z0-9_]/g, '_')
    .toLowerCase();
  return `godwit_${snake}`;
}

export async function renderPrometheus(store: MetricStore, node: string, extra: Record<string, number> = {}): Promise<string> {
  const registry = new Registry();
  const gauges = new Map<string, Gauge>();
  const gauge = (name: string, labelNames: string[]) => {
    let g = gauges.get(name);
    if (!g) gauges.set(name, (g = new Gauge({ name, help: `godwit ${name.slice('godwit_'.length)}`, labelNames, registers: [registry] })));
    return g;
  };
  for (const resource of store.resources()) {
    for (const [metric, point] of Object.entries(store.latest(resource))) {
      if (point.value === null) continue;
      gauge(prometheusName(metric), ['node', 'resource']).set({ node, resource }, point.value);
    }
  }
  for (const [name, value] of Object.entries(extra)) gauge(prometheusName(name), ['node']).set({ node }, value);
  return registry.metrics();
}

export function startPrometheus(store: MetricStore, node: string, extra: () => Record<string, number>, options: PrometheusOptions = {}): Promise<PrometheusEndpoint> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    renderPrometheus(store, node, extra()).then(
      (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${port}/metrics`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
