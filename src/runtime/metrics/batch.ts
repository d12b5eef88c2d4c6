/**
 * Samples on their way to the RMS, packed by columns: the resource and metric names once per
 * batch, then one row of numbers per sample (`[resourceIndex, timeMs, value...]`, null where a
 * metric is unavailable or absent). A batch from another node is checked before use.
 */
import type { Metrics, ResourceSample } from './monitor.js';

export interface PackedSamples {
  resources: string[];
  names: string[];
  rows: Array<Array<number | null>>;
}

export function packSamples(batch: readonly ResourceSample[]): PackedSamples {
  const resources: string[] = [];
  const names: string[] = [];
  const rIndex = new Map<string, number>();
  const nIndex = new Map<string, number>();
  for (const s of batch) {
    if (!rIndex.has(s.resource)) rIndex.set(s.resource, resources.push(s.resource) - 1);
    for (const n of Object.keys(s.metrics)) if (!nIndex.has(n)) nIndex.set(n, names.push(n) - 1);
  }
  const rows = batch.map((s) => {
    const row: Array<number | null> = [rIndex.get(s.resource)!, s.timeMs, ...new Array<number | null>(names.length).fill(null)];
    for (const [n, v] of Object.entries(s.metrics)) row[2 + nIndex.get(n)!] = v;
    return row;
  });
  return { resources, names, rows };
}

/** The samples of a packed batch; rows that do not fit its names are left out. */
export function unpackSamples(packed: unknown): ResourceSample[] {
  const p = packed as Partial<PackedSamples> | undefined;
  if (!p || !Array.isArray(p.resources) || !Array.isArray(p.names) || !Array.isArray(p.rows)) return [];
  const out: ResourceSample[] = [];
  for (const row of p.rows) {
    if (!Array.isArray(row) || row.length !== p.names.length + 2) continue;
    const resource = p.resources[row[0] as number];
    const timeMs = row[1];
    if (typeof resource !== 'string' || typeof timeMs !== 'number') continue;
    const metrics: Metrics = {};
    p.names.forEach((n, i) => {
      const v = row[2 + i];
      metrics[String(n)] = typeof v === 'number' ? v : null;
    });
    out.push({ resource, timeMs, metrics });
  }
  return out;
}
