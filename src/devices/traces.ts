/**
 * Readers for the public utilization traces godwit replays (see ../shared/data/README.md):
 *
 * - `nab`: Numenta Anomaly Benchmark CSV, header `timestamp,value`, `2014-02-14 14:27:00` (UTC);
 * - `planetlab`: one integer CPU % per line, one line every 300 s, no header (file names may
 *   contain spaces);
 * - `bitbrains`: `;`-separated with a header; the `Timestamp [ms]` column holds seconds;
 *   the value is the `CPU usage [%]` column unless another is chosen;
 * - `azure`: `microsoft_{avg,max}_100.csv`, header `timestamp,<vm>,<vm>,...`, column 0 a row
 *   index at 5 minute steps; choose a VM column by header name or by 0-based VM index.
 *
 * Bad lines: by default a line that does not parse rejects the read with a `TraceFormatError`
 * naming the file and the 1-based line (a corrupt trace should not be replayed silently). With
 * `onBadLine: 'skip'` the line is left out (its time slot is bridged by interpolation), counted
 * in `skippedLines`, the first ten errors are kept in `warnings`, and one warning is logged.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../runtime/logger.js';
import { TraceFormatError } from './device-errors.js';

export const TraceFormats = { NAB: 'nab', PLANETLAB: 'planetlab', BITBRAINS: 'bitbrains', AZURE: 'azure' } as const;
export type TraceFormat = (typeof TraceFormats)[keyof typeof TraceFormats];

export interface TraceSeries {
  /** File base name, plus the column for multi-column formats (`microsoft_avg_100.csv#1633748`). */
  readonly name: string;
  readonly file: string;
  readonly format: TraceFormat;
  /** Time of each value, ms after the first one; strictly increasing, starts at 0. */
  readonly timesMs: readonly number[];
  /** The values as the file has them: CPU utilization in percent (0..100). */
  readonly values: readonly number[];
  /** The nominal step between values (the median step; 300 000 for all four formats). */
  readonly intervalMs: number;
  /** Wall-clock time of the first value (ms since the epoch), where the file says. */
  readonly startEpochMs?: number;
  readonly skippedLines: number;
  readonly warnings: readonly TraceFormatError[];
}

export interface TraceReadOptions {
  /** `fail` (default): reject with the first bad line; `skip`: leave bad lines out and count them. */
  onBadLine?: 'fail' | 'skip';
  /** Where the skip warning goes (default: not logged; read `skippedLines`). */
  logger?: Logger;
  /** Step of formats without timestamps (planetlab, azure; default 300 000 ms). */
  intervalMs?: number;
}

export interface BitbrainsOptions extends TraceReadOptions {
  /** Header name of the value column, trimmed (default `CPU usage [%]`). */
  column?: string;
}

export interface AzureOptions extends TraceReadOptions {
  /** The VM: its header name, or its 0-based index among the VM columns (file column index - 1). */
  column: string | number;
}

const FIVE_MINUTES_MS = 300_000;

interface Point {
  timeMs: number;
  value: number;
}

class SeriesBuilder {
  private readonly points: Point[] = [];
  private readonly warnings: TraceFormatError[] = [];
  private skipped = 0;

  constructor(
    private readonly file: string,
    private readonly format: TraceFormat,
    private readonly options: TraceReadOptions,
  ) {}

  bad(line: number, reason: string): void {
    const err = new TraceFormatError(this.file, line, reason);
    if ((this.options.onBadLine ?? 'fail') === 'fail') throw err;
    this.skipped++;
    if (this.warnings.length < 10) this.warnings.push(err);
  }

  add(line: number, timeMs: number, value: number): void {
    if (!Number.isFinite(value)) return this.bad(line, 'value is not a finite number');
    const last = this.points[this.points.length - 1];
    if (last && !(timeMs > last.timeMs)) return this.bad(line, 'timestamp does not increase');
    this.points.push({ timeMs, value });
  }

  build(name: string): TraceSeries {
    const first = this.points[0];
    if (!first) throw new TraceFormatError(this.file, 0, 'no values');
    const steps = this.points.slice(1).map((p, i) => p.timeMs - (this.points[i]?.timeMs ?? 0));
    steps.sort((a, b) => a - b);
    const intervalMs = steps[Math.floor(steps.length / 2)] ?? this.options.intervalMs ?? FIVE_MINUTES_MS;
    if (this.skipped > 0) {
      this.options.logger?.warn({ file: this.file, skippedLines: this.skipped, err: this.warnings[0] }, 'trace lines skipped');
    }
    const series: TraceSeries = {
      name,
      file: this.file,
      format: this.format,
      timesMs: this.points.map((p) => p.timeMs - first.timeMs),
      values: this.points.map((p) => p.value),
      intervalMs,
      skippedLines: this.skipped,
      warnings: this.warnings,
    };
    return series;
  }

  get firstTimeMs(): number | undefined {
    return this.points[0]?.timeMs;
  }
}

async function lines(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TraceFormatError(file, 0, `cannot be read (${(err as { code?: string }).code ?? String(err)})`, err);
  }
  const all = text.split(/\r?\n/);
  if (all[all.length - 1] === '') all.pop();
  return all;
}

const numberPattern = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

function parseNumber(text: string | undefined): number {
  const t = (text ?? '').trim();
  return numberPattern.test(t) ? Number(t) : Number.NaN;
}

/** NAB `timestamp,value` CSV; timestamps are UTC. */
export async function readNabCsv(file: string, options: TraceReadOptions = {}): Promise<TraceSeries> {
  const rows = await lines(file);
  if ((rows[0] ?? '').trim() !== 'timestamp,value') throw new TraceFormatError(file, 1, 'expected the header timestamp,value');
  const b = new SeriesBuilder(file, TraceFormats.NAB, options);
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i] ?? '';
    if (row.trim() === '') continue;
    const [ts, value, ...rest] = row.split(',');
    const timeMs = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(ts ?? '') ? Date.parse(`${(ts ?? '').replace(' ', 'T')}Z`) : Number.NaN;
    if (rest.length > 0 || !Number.isFinite(timeMs)) b.bad(i + 1, `expected "YYYY-MM-DD hh:mm:ss,value", got ${JSON.stringify(row.slice(0, 60))}`);
    else b.add(i + 1, timeMs, parseNumber(value));
  }
  const start = b.firstTimeMs;
  const s = b.build(path.basename(file));
  return start === undefined ? s : { ...s, startEpochMs: start };
}

/** PlanetLab (CloudSim) trace: one CPU % per line, one line every `intervalMs`. */
export async function readPlanetLab(file: string, options: TraceReadOptions = {}): Promise<TraceSeries> {
  const rows = await lines(file);
  const step = options.intervalMs ?? FIVE_MINUTES_MS;
  const b = new SeriesBuilder(file, TraceFormats.PLANETLAB, options);
  for (let i = 0; i < rows.length; i++) {
    const value = parseNumber(rows[i]);
    if (Number.isNaN(value)) b.bad(i + 1, `expected one number, got ${JSON.stringify((rows[i] ?? '').slice(0, 40))}`);
    else b.add(i + 1, i * step, value);
  }
  return b.build(path.basename(file));
}

/** Bitbrains GWA-T-12 `;`-separated file; its `Timestamp [ms]` column holds seconds. */
export async function readBitbrains(file: string, options: BitbrainsOptions = {}): Promise<TraceSeries> {
  const rows = await lines(file);
  const header = (rows[0] ?? '').split(';').map((h) => h.trim());
  const wanted = options.column ?? 'CPU usage [%]';
  const col = header.indexOf(wanted);
  if (!header[0]?.startsWith('Timestamp')) throw new TraceFormatError(file, 1, 'expected a header starting with Timestamp');
  if (col < 0) throw new TraceFormatError(file, 1, `no column ${JSON.stringify(wanted)} (columns: ${header.join(', ')})`);
  const b = new SeriesBuilder(file, TraceFormats.BITBRAINS, options);
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i] ?? '';
    if (row.trim() === '') continue;
    const fields = row.split(';');
    const seconds = parseNumber(fields[0]);
    if (fields.length !== header.length || Number.isNaN(seconds)) b.bad(i + 1, `expected ${header.length} ;-separated fields with a timestamp first`);
    else b.add(i + 1, seconds * 1000, parseNumber(fields[col]));
  }
  const start = b.firstTimeMs;
  const s = b.build(`${path.basename(file)}#${wanted}`);
  return start === undefined ? s : { ...s, startEpochMs: start };
}

/** Azure Public Dataset V1 `microsoft_{avg,max}_100.csv`: one column per VM, a row every `intervalMs`. */
export async function readAzureCsv(file: string, options: AzureOptions): Promise<TraceSeries> {
  const rows = await lines(file);
  const header = (rows[0] ?? '').split(',').map((h) => h.trim());
  const col = typeof options.column === 'number' ? options.column + 1 : header.indexOf(options.column, 1);
  if (!(col >= 1 && col < header.length)) {
    throw new TraceFormatError(file, 1, `no VM column ${JSON.stringify(options.column)} (${header.length - 1} VM columns)`);
  }
  const step = options.intervalMs ?? FIVE_MINUTES_MS;
  const b = new SeriesBuilder(file, TraceFormats.AZURE, options);
  let firstRow: number | undefined;
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i] ?? '';
    if (row.trim() === '') continue;
    const fields = row.split(',');
    const index = parseNumber(fields[0]);
    if (fields.length !== header.length || !Number.isInteger(index)) {
      b.bad(i + 1, `expected ${header.length} comma-separated fields with a row index first`);
      continue;
    }
    firstRow ??= index;
    b.add(i + 1, (index - firstRow) * step, parseNumber(fields[col]));
  }
  return b.build(`${path.basename(file)}#${header[col] ?? col}`);
}

export interface ReadTraceOptions extends TraceReadOptions {
  /** Bitbrains value column, or Azure VM column (required for azure). */
  column?: string | number;
}

/** Reads a trace of the given format. */
export async function readTrace(file: string, format: TraceFormat, options: ReadTraceOptions = {}): Promise<TraceSeries> {
  const { column, ...rest } = options;
  switch (format) {
    case TraceFormats.NAB:
      return readNabCsv(file, rest);
    case TraceFormats.PLANETLAB:
      return readPlanetLab(file, rest);
    case TraceFormats.BITBRAINS:
      return readBitbrains(file, { ...rest, ...(typeof column === 'string' ? { column } : {}) });
    case TraceFormats.AZURE:
      if (column === undefined) throw new TraceFormatError(file, 0, 'an azure trace needs a VM column');
      return readAzureCsv(file, { ...rest, column });
    default:
      throw new TraceFormatError(file, 0, `unknown trace format ${String(format)}`);
  }
}

/**
 * The value at `timeMs` after the series' start, interpolated linearly between samples (as
 * CloudSim does). Before the start: the first value. After the end: the last value, or with
 * `loop` the series again from its start (period: last time + one interval).
 */
export function traceValueAt(series: TraceSeries, timeMs: number, loop = false): number {
  const { timesMs: t, values: v } = series;
  const n = v.length;
  if (n === 0) return Number.NaN;
  const lastT = t[n - 1] ?? 0;
  let x = timeMs;
  if (loop) {
    const period = lastT + series.intervalMs;
    x = ((timeMs % period) + period) % period;
    if (x > lastT) {
      // Between the last sample and the first one of the next lap.
      const f = (x - lastT) / series.intervalMs;
      return (v[n - 1] ?? 0) + ((v[0] ?? 0) - (v[n - 1] ?? 0)) * f;
    }
  }
  if (x <= 0) return v[0] ?? Number.NaN;
  if (x >= lastT) return v[n - 1] ?? Number.NaN;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((t[mid] ?? 0) <= x) lo = mid;
    else hi = mid;
  }
  const t0 = t[lo] ?? 0;
  const t1 = t[hi] ?? t0;
  const v0 = v[lo] ?? 0;
  const v1 = v[hi] ?? v0;
  return t1 === t0 ? v0 : v0 + ((v1 - v0) * (x - t0)) / (t1 - t0);
}
