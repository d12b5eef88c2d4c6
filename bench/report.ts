/**
 * The shape every benchmark reports (see "Machine-readable output" in the design): one result a
 * case, each measured against a baseline taken in the same run, with their ratio.
 */
import os from 'node:os';

export interface BenchResult {
  case: string;
  metric: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number;
  ratio: number;
  better?: 'lower';
}

export interface BenchReport {
  bench: string;
  node: string;
  cpus: number;
  results: BenchResult[];
}

export interface BenchOptions {
  /** A smaller run for smoke tests; the figures are not the ones to record. */
  quick: boolean;
}

export interface Bench {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<BenchResult[]>;
}

export function benchResult(r: Omit<BenchResult, 'ratio'>): BenchResult {
  const ratio = r.baselineValue === 0 ? Number.NaN : r.value / r.baselineValue;
  return { ...r, ratio: round(ratio, 3) , value: round(r.value, 3), baselineValue: round(r.baselineValue, 3) };
}

export function benchReport(bench: string, results: BenchResult[]): BenchReport {
  return { bench, node: process.version, cpus: os.cpus().length, results };
}

export function formatReport(report: BenchReport): string {
  const rows = report.results.map((r) => [
    r.case,
    r.metric,
    `${fmt(r.value)} ${r.unit}`,
    `${r.baseline}: ${fmt(r.baselineValue)} ${r.unit}`,
    `${fmt(r.ratio)}x${r.better === 'lower' ? ' (lower is better)' : ''}`,
  ]);
  const head = ['case', 'metric', 'godwit', 'baseline', 'ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [`bench ${report.bench} (node ${report.node}, ${report.cpus} cpus)`, line(head), ...rows.map(line)].join('\n');
}

/** Median of a list of numbers (NaN for an empty list). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function round(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : String(x);
}

/** Calls `send` `count` times in bursts of `burst`, yielding to the event loop between bursts. */
export async function sendInBursts(count: number, burst: number, send: () => void): Promise<void> {
  for (let sent = 0; sent < count; ) {
    for (let i = 0; i < burst && sent < count; i++, sent++) send();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
