/** `godwit simulate`: trace-driven consolidation benchmark (PlanetLab set-up, other trace families, synthetic scale runs). */
import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TraceFormats, type TraceFormat } from '../devices/traces.js';
import { PLANETLAB_POLICIES, medianReports, runDay, type BenchmarkDay } from '../sim/benchmark.js';
import { loadPlanetLabDay } from '../sim/planetlab.js';
import { renderBenchmarkSvg, type PlotPoint } from '../sim/svg-plot.js';
import { syntheticSetup } from '../sim/synthetic.js';
import { loadTraceSetup } from '../sim/trace-workload.js';
import type { SimSetup } from '../sim/types.js';
import { table, type Output } from './output.js';

export interface SimulateOptions {
  trace: string | undefined;
  format: string | undefined;
  setup: string | undefined;
  policies: string | undefined;
  hosts: string | undefined;
  seed: string | undefined;
  plot: string | undefined;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The day folders under `target` (itself if it holds trace files). */
async function dayFolders(target: string): Promise<string[]> {
  const entries = await readdir(target, { withFileTypes: true });
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => path.join(target, e.name));
  return dirs.length > 0 ? dirs.sort() : [target];
}

function positiveInt(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be an integer >= 1, got ${text}`);
  return n;
}

async function loadSetups(options: SimulateOptions, out: Output): Promise<{ kind: string; setups: AsyncGenerator<SimSetup> } | number> {
  const kind = options.setup ?? 'planetlab';
  const hosts = positiveInt(options.hosts, 'hosts');
  const seed = positiveInt(options.seed, 'seed') ?? 1;
  if (kind === 'synthetic') {
    const n = hosts ?? 800;
    return { kind, setups: (async function* () { yield syntheticSetup(n, seed); })() };
  }
  if (kind !== 'planetlab') {
    out.error(`--setup must be planetlab or synthetic, got ${kind}`);
    return 2;
  }
  const format = (options.format ?? TraceFormats.PLANETLAB) as TraceFormat;
  if (!(Object.values(TraceFormats) as string[]).includes(format)) {
    out.error(`--format must be one of ${Object.values(TraceFormats).join(', ')}, got ${options.format}`);
    return 2;
  }
  const trace = path.resolve(repoRoot, options.trace ?? '../shared/data/planetlab');
  if (!(await stat(trace).catch(() => undefined))) {
    out.error(`no trace at ${trace} (give --trace DIR|FILE)`);
    return 2;
  }
  if (format !== TraceFormats.PLANETLAB) {
    return { kind, setups: (async function* () { yield await loadTraceSetup(trace, format, hosts === undefined ? {} : { hosts }); })() };
  }
  const days = (await stat(trace)).isDirectory() ? await dayFolders(trace) : [trace];
  return { kind, setups: (async function* () { for (const d of days) yield await loadPlanetLabDay(d, hosts === undefined ? {} : { hosts }); })() };
}

const pct = (x: number | undefined) => ((x ?? Number.NaN) * 100).toFixed(2);

function printDay(out: Output, title: string, reports: Record<string, Record<string, number>>): void {
  out.line(title);
  const rows = Object.entries(reports).map(([p, r]) => [
    p,
    (r.energyKWh ?? Number.NaN).toFixed(1),
    pct(r.slatah),
    ((r.pdm ?? Number.NaN) * 100).toFixed(3),
    ((r.slav ?? Number.NaN) * 1e5).toFixed(2),
    ((r.esv ?? Number.NaN) * 1e3).toFixed(2),
    String(Math.round(r.migrations ?? 0)),
    ((r.runMs ?? Number.NaN) / 1000).toFixed(1),
    r.forecastMase === undefined ? '' : `MAE ${(r.forecastMae ?? 0).toFixed(4)} MASE ${r.forecastMase.toFixed(3)}`,
  ]);
  out.line(table(['policy', 'energy kWh', 'SLATAH %', 'PDM %', 'SLAV e-5', 'ESV e-3', 'migrations', 'run s', 'forecast (1 step)'], rows));
  out.line();
}

export async function runSimulate(options: SimulateOptions, out: Output): Promise<number> {
  const policies = options.policies?.split(',').map((p) => p.trim()).filter((p) => p !== '') ?? [...PLANETLAB_POLICIES];
  let loaded;
  try {
    loaded = await loadSetups(options, out);
  } catch (err) {
    out.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  if (typeof loaded === 'number') return loaded;
  const days: BenchmarkDay[] = [];
  try {
    for await (const setup of loaded.setups) {
      const day = runDay(setup, policies);
      days.push(day);
      printDay(out, `${setup.name}: ${setup.hosts.length} hosts, ${setup.workload.vmIds.length} VMs, ${setup.workload.steps} intervals`, day.reports);
    }
  } catch (err) {
    out.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  const median = medianReports(days);
  if (days.length > 1) printDay(out, `median over ${days.length} days`, median);
  if (options.plot !== undefined) {
    const points: PlotPoint[] = [
      ...days.flatMap((d) => Object.entries(d.reports).map(([policy, r]) => ({ policy, energyKWh: r.energyKWh, slav: r.slav }))),
      ...Object.entries(median).map(([policy, r]) => ({ policy, energyKWh: r.energyKWh ?? Number.NaN, slav: r.slav ?? Number.NaN, median: true })),
    ];
    const first = days[0]?.results ?? [];
    await writeFile(options.plot, renderBenchmarkSvg(points, first.map((r) => ({ policy: r.policy, activeHosts: r.activeHosts })), `godwit simulate --setup ${loaded.kind}`));
    out.line(`plot written to ${options.plot}`);
  }
  if (out.json) out.result({ setup: loaded.kind, days: Object.fromEntries(days.map((d) => [d.day, d.reports])), median });
  return 0;
}
