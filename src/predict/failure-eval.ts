/**
 * Scores failure warnings on a replayed temperature series against labelled windows (NAB
 * style). Rule, fixed in advance so it can generalise: the first `calibrationShare` of the
 * series (before any scoring) sets the thresholds at mean ± `sigmas` standard deviations;
 * the rest is replayed through a `FailurePredictor` and a `FailureWarning`, and every
 * transition into the warning state is one warning.
 *
 * - an event is a labelled window; its label is the window's middle row (NAB centres windows
 *   on the labelled anomaly), its first warning the first one inside the window, and its lead
 *   time the label's time minus that warning's time (negative: after the label);
 * - precision = warnings inside a window / all warnings; recall = windows with a warning /
 *   windows in the scored part; false alarms per day = warnings outside every window / days scored.
 */
import { InvalidArgumentError } from '../errors.js';
import { FailurePredictor, FailureWarning, type FailurePredictorOptions, type FailureWarningOptions } from './failure.js';

export interface FailureWindow {
  readonly startMs: number;
  readonly endMs: number;
}

export interface FailureEvalOptions extends FailureWarningOptions, Omit<FailurePredictorOptions, 'highC' | 'lowC'> {
  /** Share of the series (from its start) that sets the thresholds and is not scored (default 0.25). */
  calibrationShare?: number;
  /** Thresholds at mean ± this many standard deviations of the calibration part (default 3). */
  sigmas?: number;
  /** Horizon of the failure probability, in ms (default 6 h). */
  horizonMs?: number;
}

export interface FailureEvent {
  readonly labelMs: number;
  readonly firstWarningMs: number | undefined;
  readonly leadMinutes: number | undefined;
}

export interface FailureEvaluation {
  readonly events: FailureEvent[];
  readonly warnings: number;
  readonly precision: number;
  readonly recall: number;
  readonly falseAlarmsPerDay: number;
  readonly highC: number;
  readonly lowC: number;
  readonly scoredFromMs: number;
  readonly scoredDays: number;
}

/** `timesMs` are absolute (epoch) times, increasing. */
export function evaluateFailureWarnings(timesMs: readonly number[], values: readonly number[], windows: readonly FailureWindow[], options: FailureEvalOptions = {}): FailureEvaluation {
  const share = options.calibrationShare ?? 0.25;
  const sigmas = options.sigmas ?? 3;
  const horizonMs = options.horizonMs ?? 6 * 3_600_000;
  if (!(share > 0 && share < 1)) throw new InvalidArgumentError('calibrationShare', `must be in (0, 1), got ${share}`);
  const calibrationEnd = Math.floor(values.length * share);
  if (calibrationEnd < 2 || calibrationEnd >= values.length) throw new InvalidArgumentError('values', `${values.length} values are too few to calibrate and score`);
  const calib = values.slice(0, calibrationEnd);
  const mean = calib.reduce((a, b) => a + b, 0) / calib.length;
  const sd = Math.sqrt(calib.reduce((a, b) => a + (b - mean) ** 2, 0) / calib.length);
  const highC = mean + sigmas * sd;
  const lowC = mean - sigmas * sd;
  const predictor = new FailurePredictor({ ...pickPredictor(options), highC, lowC });
  const warning = new FailureWarning(options);
  const warnedAt: number[] = [];
  values.forEach((v, i) => {
    const t = timesMs[i] ?? 0;
    predictor.update(t, v);
    if (i < calibrationEnd) return;
    if (warning.update(predictor.risk(horizonMs).probability) === 'warn') warnedAt.push(t);
  });
  const scoredFromMs = timesMs[calibrationEnd] ?? 0;
  const scoredToMs = timesMs[values.length - 1] ?? scoredFromMs;
  const scored = windows.filter((w) => w.endMs >= scoredFromMs && w.startMs <= scoredToMs);
  const inside = (t: number) => scored.some((w) => t >= w.startMs && t <= w.endMs);
  const events = scored.map((w): FailureEvent => {
    const labelMs = windowLabel(timesMs, w);
    const first = warnedAt.find((t) => t >= w.startMs && t <= w.endMs);
    return { labelMs, firstWarningMs: first, leadMinutes: first === undefined ? undefined : (labelMs - first) / 60_000 };
  });
  const truePositives = warnedAt.filter(inside).length;
  const scoredDays = (scoredToMs - scoredFromMs) / 86_400_000;
  return {
    events,
    warnings: warnedAt.length,
    precision: warnedAt.length === 0 ? Number.NaN : truePositives / warnedAt.length,
    recall: scored.length === 0 ? Number.NaN : events.filter((e) => e.firstWarningMs !== undefined).length / scored.length,
    falseAlarmsPerDay: scoredDays > 0 ? (warnedAt.length - truePositives) / scoredDays : Number.NaN,
    highC,
    lowC,
    scoredFromMs,
    scoredDays,
  };
}

function pickPredictor(o: FailureEvalOptions): FailurePredictorOptions {
  const out: FailurePredictorOptions = {};
  if (o.windowSize !== undefined) out.windowSize = o.windowSize;
  if (o.minSigmaC !== undefined) out.minSigmaC = o.minSigmaC;
  return out;
}

/** The time of the middle row of the series inside the window (its midpoint when no row is). */
export function windowLabel(timesMs: readonly number[], w: FailureWindow): number {
  const rows: number[] = [];
  for (const t of timesMs) if (t >= w.startMs && t <= w.endMs) rows.push(t);
  return rows.length === 0 ? (w.startMs + w.endMs) / 2 : (rows[(rows.length - 1) >> 1] ?? w.startMs);
}

/** NAB time stamps (`2013-12-15 07:00:00.000000`, UTC) to epoch ms; NaN when malformed. */
export function parseNabTime(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(text.trim());
  return m ? Date.parse(`${m[1]}T${m[2]}Z`) : Number.NaN;
}

export function formatNabTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * Windows for one data file from a NAB windows document (`{ "dir/file.csv": [[start, end], ...] }`,
 * matched by the file's base name) or from a plain `[[start, end], ...]` array.
 */
export function windowsFor(doc: unknown, dataFile: string): FailureWindow[] | undefined {
  const base = dataFile.split(/[\\/]/).pop() ?? dataFile;
  let pairs: unknown = doc;
  if (!Array.isArray(doc)) {
    if (typeof doc !== 'object' || doc === null) return undefined;
    const key = Object.keys(doc).find((k) => (k.split('/').pop() ?? k) === base);
    if (key === undefined) return undefined;
    pairs = (doc as Record<string, unknown>)[key];
  }
  if (!Array.isArray(pairs)) return undefined;
  const out: FailureWindow[] = [];
  for (const p of pairs) {
    if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'string') return undefined;
    const startMs = parseNabTime(p[0]);
    const endMs = parseNabTime(p[1]);
    if (Number.isNaN(startMs) || Number.isNaN(endMs)) return undefined;
    out.push({ startMs, endMs });
  }
  return out;
}
