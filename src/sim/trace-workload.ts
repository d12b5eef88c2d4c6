/** Any supported trace family as simulator VMs (one series per VM), on the PlanetLab hosts and VM types. */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readTrace, traceValueAt, TraceFormats, type TraceFormat, type TraceSeries } from '../devices/traces.js';
import { PLANETLAB_INTERVAL_MS, PLANETLAB_STEPS, planetlabSetup, planetlabWorkload } from './planetlab.js';
import type { SimSetup } from './types.js';

async function filesOf(target: string): Promise<string[]> {
  const info = await stat(target);
  if (!info.isDirectory()) return [target];
  const names = (await readdir(target)).filter((n) => !n.startsWith('.') && !n.endsWith('.md') && !n.endsWith('.json')).sort();
  return names.map((n) => path.join(target, n));
}

/**
 * Reads `target` (a file or a folder of files) in `format`; azure files give `azureColumns` VMs
 * each. Every series is resampled at 300 s for one day from its start (linear, last value held).
 * Hosts default to the PlanetLab ratio (800 per 1052 VMs).
 */
export async function loadTraceSetup(target: string, format: TraceFormat, options: { hosts?: number; azureColumns?: number } = {}): Promise<SimSetup> {
  const series: TraceSeries[] = [];
  for (const file of await filesOf(target)) {
    if (format === TraceFormats.AZURE) {
      for (let c = 0; c < (options.azureColumns ?? 100); c++) series.push(await readTrace(file, format, { column: c, onBadLine: 'skip' }));
    } else if (format === TraceFormats.NAB && !file.endsWith('.csv')) {
      continue;
    } else {
      series.push(await readTrace(file, format, { onBadLine: 'skip' }));
    }
  }
  const values = series.map((s) => Float64Array.from({ length: PLANETLAB_STEPS }, (_, k) => traceValueAt(s, k * PLANETLAB_INTERVAL_MS)));
  const hosts = options.hosts ?? Math.max(2, Math.ceil((series.length * 800) / 1052));
  const name = path.basename(target);
  return planetlabSetup(name, planetlabWorkload(name, series.map((s) => s.name), values), hosts);
}
