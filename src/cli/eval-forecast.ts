/** `godwit eval-forecast`: rolling-origin accuracy of the baseline forecasters on real traces. */
import { readTrace, TraceFormats, type TraceFormat, type TraceSeries } from '../devices/traces.js';
import { evaluateSeries, evaluateSeriesAsync, summarize, SELECTED, type SeriesEvaluation } from '../predict/evaluate.js';
import { LstmForecaster } from '../predict/lstm.js';
import { COMBINED } from '../predict/selector.js';
import { table, type Output } from './output.js';

export interface EvalForecastOptions {
  data: readonly string[] | undefined;
  format: string | undefined;
  horizons: string | undefined;
  column: string | undefined;
  /** Adds the LSTM (worker thread) to the competing models. */
  lstm?: boolean;
}

function fixed(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

export async function runEvalForecast(options: EvalForecastOptions, out: Output): Promise<number> {
  const files = options.data ?? [];
  if (files.length === 0) {
    out.error('eval-forecast needs --data FILE...');
    return 2;
  }
  const format = (options.format ?? TraceFormats.NAB) as TraceFormat;
  if (!(Object.values(TraceFormats) as string[]).includes(format)) {
    out.error(`--format must be one of ${Object.values(TraceFormats).join(', ')}, got ${options.format}`);
    return 2;
  }
  const horizons = (options.horizons ?? '1,3,12').split(',').map((h) => Number(h.trim()));
  if (horizons.some((h) => !Number.isInteger(h) || h < 1)) {
    out.error(`--horizons must be a comma-separated list of integers >= 1, got ${options.horizons}`);
    return 2;
  }
  const columns = options.column === undefined ? 10 : Number(options.column);
  if (!Number.isInteger(columns) || columns < 1) {
    out.error(`--column must be an integer >= 1, got ${options.column}`);
    return 2;
  }

  const series: TraceSeries[] = [];
  try {
    for (const file of files) {
      if (format === TraceFormats.AZURE) {
        for (let c = 0; c < columns; c++) series.push(await readTrace(file, format, { column: c, onBadLine: 'skip' }));
      } else {
        series.push(await readTrace(file, format, { onBadLine: 'skip' }));
      }
    }
  } catch (err) {
    out.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  const evaluations: SeriesEvaluation[] = [];
  for (const s of series) {
    evaluations.push(options.lstm ? await evaluateSeriesAsync(s.values, { horizons, extraModels: () => [new LstmForecaster({ maxHorizon: Math.max(...horizons) })] }) : evaluateSeries(s.values, { horizons }));
  }
  const summary = summarize(evaluations);

  if (out.json) {
    const models: Record<string, Record<string, { mase: number; mae: number; smape: number; coverageP90: number }>> = {};
    for (const [name, byH] of Object.entries(summary.sources)) if (name !== SELECTED && name !== COMBINED) models[name] = byH;
    out.result({ series: summary.series, horizons, models, selected: summary.sources[SELECTED], combined: summary.sources[COMBINED] });
    return 0;
  }
  out.line(`${summary.series} series (${format}); first half warm-up, second half scored; medians over series`);
  const rows: Array<Array<string | number>> = [];
  for (const [name, byH] of Object.entries(summary.sources)) {
    for (const h of horizons) {
      const m = byH[String(h)];
      if (m) rows.push([name, h, fixed(m.mase), fixed(m.mae), fixed(m.smape, 1), fixed(m.coverageP90, 2)]);
    }
  }
  out.line(table(['model', 'h', 'mase', 'mae', 'smape%', 'cov-p90'], rows));
  return 0;
}
