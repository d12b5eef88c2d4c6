import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readNabCsv } from '../../src/devices/traces.js';
import { ErrorCodes } from '../../src/errors.js';
import { FailurePredictor, FailureWarning, normalCdf, robustLine } from '../../src/predict/failure.js';
import { evaluateFailureWarnings, parseNabTime, windowLabel, windowsFor } from '../../src/predict/failure-eval.js';

const HOUR = 3_600_000;
const nabDir = fileURLToPath(new URL('../../../../shared/data/nab/', import.meta.url));

describe('FailurePredictor', () => {
  it('fits a robust slope that ignores one outlier', () => {
    const times = [0, 1, 2, 3, 4, 5, 6].map((h) => h * HOUR);
    const { slope, level } = robustLine(times, [60, 61, 62, 99, 64, 65, 66], 6 * HOUR);
    assert.ok(Math.abs(slope * HOUR - 1) < 1e-9);
    assert.ok(Math.abs(level - 66) < 1e-9);
    assert.ok(Math.abs(normalCdf(1.2816) - 0.9) < 1e-4);
  });

  it('gives a rising temperature a time to threshold and a probability that grows with the horizon', () => {
    const p = new FailurePredictor({ highC: 80 });
    for (let h = 0; h < 12; h++) p.update(h * HOUR, 60 + h + (h % 2 === 0 ? 0.2 : -0.2));
    const near = p.risk(HOUR);
    const far = p.risk(12 * HOUR);
    assert.ok(Math.abs(near.expectedTimeToThresholdMs / HOUR - 9) < 0.5, String(near.expectedTimeToThresholdMs / HOUR));
    assert.ok(near.probability < 0.05 && far.probability > 0.9, `${near.probability} ${far.probability}`);
    assert.match(far.reason, /rising 1\.00 °C\/h, 80 °C in \d+ min/);
  });

  it('is calm on a flat temperature, and error counters alone raise the risk', () => {
    const p = new FailurePredictor({ highC: 90 });
    for (let m = 0; m < 12; m++) p.update(m * 60_000, 50, m * 5);
    const r = p.risk(10 * 60_000);
    assert.equal(r.expectedTimeToThresholdMs, Infinity);
    // 5 errors a minute, 10 minutes, 10 errors to failure: 1 - e^-5.
    assert.ok(Math.abs(r.probability - (1 - Math.exp(-5))) < 1e-9, String(r.probability));
    assert.match(r.reason, /error counter rising 300\.0\/h/);
    assert.throws(() => new FailurePredictor({ highC: 10, lowC: 20 }), { code: ErrorCodes.INVALID_ARGUMENT });
  });

  it('does not extrapolate a trend from a window not yet full (a device warming up after start), but a temperature past the threshold counts at once', () => {
    const p = new FailurePredictor({ highC: 95 });
    // A steep warm-up, 2 °C per 100 ms: extrapolated 5 s ahead it would pass 95 °C long before.
    for (let i = 0; i < 11; i++) p.update(i * 100, 40 + 2 * i);
    const early = p.risk(5000);
    assert.equal(early.probability, 0);
    assert.match(early.reason, /warming up \(11 of 12 samples\)/);
    p.update(1100, 62);
    assert.ok(p.risk(5000).probability > 0.9, 'the same trend over a full window is a risk');
    const hot = new FailurePredictor({ highC: 95 });
    hot.update(0, 97);
    assert.equal(hot.risk(1000).probability, 1);
    assert.equal(hot.risk(1000).expectedTimeToThresholdMs, 0);
  });
});

describe('FailureWarning', () => {
  it('warns once above the warn level and re-arms only below the re-arm level', () => {
    const w = new FailureWarning({ warnProbability: 0.5, rearmProbability: 0.2 });
    assert.deepEqual([0.1, 0.6, 0.9, 0.3, 0.6, 0.1, 0.7].map((p) => w.update(p) ?? '-'), ['-', 'warn', '-', '-', '-', 'clear', 'warn']);
  });
});

describe('evaluateFailureWarnings', () => {
  it('scores lead time, precision, recall and false alarms against windows', () => {
    // Hourly: flat with noise for 200 h (calibration = first 50), a ramp to a failure at 150 h, and one spike at 180 h.
    const times = Array.from({ length: 200 }, (_, h) => h * HOUR);
    const values = times.map((_, h) => 60 + (h % 3) * 0.5 + (h >= 130 && h < 150 ? (h - 130) * 1.5 : 0) + (h === 180 ? 30 : 0));
    const e = evaluateFailureWarnings(times, values, [{ startMs: 120 * HOUR, endMs: 160 * HOUR }], { horizonMs: 6 * HOUR });
    assert.equal(e.events.length, 1);
    const ev = e.events[0];
    assert.ok(ev?.firstWarningMs !== undefined && ev.leadMinutes !== undefined);
    assert.ok(ev.leadMinutes > 0, String(ev.leadMinutes));
    assert.equal(ev.labelMs, 140 * HOUR);
    assert.equal(e.recall, 1);
    assert.ok(e.precision > 0 && e.precision <= 1);
    assert.ok(e.falseAlarmsPerDay >= 0);
  });

  it('reads NAB windows by file name and labels a window by its middle row', () => {
    const doc = { 'realKnownCause/x.csv': [['2014-01-01 00:00:00.000000', '2014-01-01 04:00:00.000000']] };
    const w = windowsFor(doc, '/data/nab/realKnownCause/x.csv');
    assert.deepEqual(w, [{ startMs: parseNabTime('2014-01-01 00:00:00'), endMs: parseNabTime('2014-01-01 04:00:00') }]);
    assert.equal(windowsFor(doc, 'other.csv'), undefined);
    const t0 = parseNabTime('2014-01-01 00:00:00');
    assert.equal(windowLabel([0, 1, 2, 4].map((h) => t0 + h * HOUR), { startMs: t0, endMs: t0 + 4 * HOUR }), t0 + HOUR);
  });

  it('on the NAB ambient temperature failure, warns before both labelled failures', async function () {
    const file = `${nabDir}realKnownCause/ambient_temperature_system_failure.csv`;
    try {
      await access(file);
    } catch {
      this.skip();
    }
    const series = await readNabCsv(file, { onBadLine: 'skip' });
    const windows = windowsFor({ 'realKnownCause/ambient_temperature_system_failure.csv': [['2013-12-15 07:00:00', '2013-12-30 09:00:00'], ['2014-03-29 15:00:00', '2014-04-20 22:00:00']] }, file) ?? [];
    const e = evaluateFailureWarnings(series.timesMs.map((t) => t + (series.startEpochMs ?? 0)), series.values, windows);
    assert.equal(e.recall, 1);
    for (const ev of e.events) assert.ok((ev.leadMinutes ?? -1) > 0);
  });
});
