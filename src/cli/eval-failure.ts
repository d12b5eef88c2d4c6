/** `godwit eval-failure`: failure warnings on a replayed temperature trace scored against labelled windows. */
import { readFile } from 'node:fs/promises';
import { readNabCsv } from '../devices/traces.js';
import { evaluateFailureWarnings, formatNabTime, windowsFor } from '../predict/failure-eval.js';
import { table, type Output } from './output.js';

export interface EvalFailureOptions {
  data: string | undefined;
  windows: string | undefined;
  /** Probability horizon in hours (default 6). */
  horizonHours: string | undefined;
}

const round = (x: number, digits = 3): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);

export async function runEvalFailure(options: EvalFailureOptions, out: Output): Promise<number> {
  if (options.data === undefined || options.windows === undefined) {
    out.error('eval-failure needs --data FILE (NAB csv) and --windows FILE (NAB windows json)');
    return 2;
  }
  const horizonHours = options.horizonHours === undefined ? 6 : Number(options.horizonHours);
  if (!(horizonHours > 0)) {
    out.error(`--horizon-hours must be a positive number, got ${options.horizonHours}`);
    return 2;
  }
  let windows;
  let series;
  try {
    series = await readNabCsv(options.data, { onBadLine: 'skip' });
    windows = windowsFor(JSON.parse(await readFile(options.windows, 'utf8')) as unknown, options.data);
  } catch (err) {
    out.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  if (!windows) {
    out.error(`${options.windows} has no [start, end] windows for ${options.data}`);
    return 1;
  }
  const start = series.startEpochMs ?? 0;
  const e = evaluateFailureWarnings(series.timesMs.map((t) => t + start), series.values, windows, { horizonMs: horizonHours * 3_600_000 });
  const events = e.events.map((ev) => ({
    label: formatNabTime(ev.labelMs),
    firstWarning: ev.firstWarningMs === undefined ? null : formatNabTime(ev.firstWarningMs),
    leadMinutes: ev.leadMinutes === undefined ? null : round(ev.leadMinutes, 1),
  }));
  const summary = { precision: round(e.precision), recall: round(e.recall), falseAlarmsPerDay: round(e.falseAlarmsPerDay) };
  if (out.json) {
    out.result({ events, ...summary, warnings: e.warnings, thresholdsC: { high: round(e.highC, 2), low: round(e.lowC, 2) }, scoredFrom: formatNabTime(e.scoredFromMs), scoredDays: round(e.scoredDays, 1), horizonHours });
    return 0;
  }
  out.line(`thresholds ${round(e.lowC, 2)} / ${round(e.highC, 2)} (calibration: first quarter); scored from ${formatNabTime(e.scoredFromMs)} (${round(e.scoredDays, 1)} days), horizon ${horizonHours} h`);
  out.line(table(['label', 'first warning', 'lead min'], events.map((ev) => [ev.label, ev.firstWarning ?? '-', ev.leadMinutes ?? '-'])));
  out.line(`warnings ${e.warnings}, precision ${summary.precision}, recall ${summary.recall}, false alarms/day ${summary.falseAlarmsPerDay}`);
  return 0;
}
