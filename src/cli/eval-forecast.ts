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
  /** `all` (default) or `lean` (the resource predictors' set). */
  models?: string | undefined;
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
  // Azure: `N` takes the first N VMs, `A-B` the VMs in columns A to B (0-based, inclusive).
  const range = /^(\d+)-(\d+)$/.exec(options.column ?? '');
  const first = range ? Number(range[1]) : 0;
  const end = range ? Number(range[2]) + 1 : options.column === undefined ? 10 : Number(options.column);
  if (!Number.isInteger(end) || end < 1 || first >= end) {
    out.error(`--column must be N (the first N VMs, N >= 1) or A-B (columns A to B, A <= B), got ${options.column}`);
    return 2;
  }

  const series: TraceSeries[] = [];
  try {
    for (const file of files) {
      if (format === TraceFormats.AZURE) {
        for (let c = first; c < end; c++) series.push(await readTrace(file, format, { column: c, onBadLine: 'skip' }));
      } else {
        series.push(await readTrace(file, format, { onBadLine: 'skip' }));
      }
    }
  } catch (err) {
    out.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  const modelSet = options.models ?? 'all';
  if (modelSet !== 'all' && modelSet !== 'lean') {
    out.error(`--models must be all or lean, got ${options.models}`);
    return 2;
  }
  const evaluations: SeriesEvaluation[] = [];
  for (const s of series) {
    evaluations.push(options.lstm ? await evaluateSeriesAsync(s.values, { horizons, modelSet, extraModels: () => [new LstmForecaster({ maxHorizon: Math.max(...horizons) })] }) : evaluateSeries(s.values, { horizons, modelSet }));
  }
  const summary = summarize(evaluations);
  const versus = selectedVersusModels(evaluations, summary.sources, horizons);

  if (out.json) {
    const models: Record<string, Record<string, { mase: number; mae: number; smape: number; coverageP90: number }>> = {};
    for (const [name, byH] of Object.entries(summary.sources)) if (name !== SELECTED && name !== COMBINED) models[name] = byH;
    out.result({ series: summary.series, horizons, models, selected: summary.sources[SELECTED], combined: summary.sources[COMBINED], versus });
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
  for (const v of versus) {
    out.line(`h=${v.horizon}: selected ${fixed(v.selected)} vs best single model ${v.bestModel} ${fixed(v.bestMase)}: ${v.selected < v.bestMase ? 'lower' : 'not lower'}`);
  }
  return 0;
}

interface Versus {
  horizon: number;
  selected: number;
  /** The single model with the lowest median MASE among those that ran on every series. */
  bestModel: string;
  bestMase: number;
}

/**
 * Per horizon, the selected model's median MASE against the best single model's. Only models
 * that ran on every series compete (Holt-Winters runs only where a period was found, so its
 * median is over other series).
 */
function selectedVersusModels(evaluations: readonly SeriesEvaluation[], sources: Record<string, Record<string, { mase: number }>>, horizons: readonly number[]): Versus[] {
  const everywhere = Object.keys(sources).filter((name) => name !== SELECTED && name !== COMBINED && evaluations.every((e) => e.sources[name] !== undefined));
  return horizons.map((h) => {
    let bestModel = '';
    let bestMase = Infinity;
    for (const name of everywhere) {
      const v = sources[name]?.[String(h)]?.mase ?? Number.NaN;
      if (v < bestMase) {
        bestMase = v;
        bestModel = name;
      }
    }
    return { horizon: h, selected: sources[SELECTED]?.[String(h)]?.mase ?? Number.NaN, bestModel, bestMase };
  });
}
