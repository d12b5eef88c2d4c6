import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/errors.js';
import { evaluateSeries } from '../../src/predict/evaluate.js';
import { HoltWintersForecaster, detectPeriod } from '../../src/predict/seasonal.js';
import { ar1Series, createGaussian } from './prng.js';

function seasonalSeries(n: number, period: number, seed: number): number[] {
  const gauss = createGaussian(seed);
  return Array.from({ length: n }, (_, t) => 50 + 0.01 * t + 20 * Math.sin((2 * Math.PI * t) / period) + gauss());
}

describe('detectPeriod', () => {
  it('finds the season of a noisy sine with a trend', () => {
    assert.equal(detectPeriod(seasonalSeries(600, 24, 1)), 24);
  });

  it('finds none in an AR(1) series or a constant', () => {
    assert.equal(detectPeriod(ar1Series(600, 0.6, 40, 2, 3)), undefined);
    assert.equal(detectPeriod(new Array<number>(100).fill(3)), undefined);
  });
});

describe('HoltWintersForecaster', () => {
  it('forecasts the last value until two seasons are in, then the season', () => {
    const m = new HoltWintersForecaster({ period: 24 });
    const xs = seasonalSeries(400, 24, 2);
    for (let t = 0; t < 47; t++) m.update(xs[t] ?? 0);
    assert.equal(m.forecast(5), xs[46]);
    for (let t = 47; t < 388; t++) m.update(xs[t] ?? 0);
    // 12 steps ahead is half a season away: the naive forecast is off by ~2 amplitudes there.
    const truth = 50 + 0.01 * 399 + 20 * Math.sin((2 * Math.PI * 399) / 24);
    assert.ok(Math.abs(m.forecast(12) - truth) < 4, `${m.forecast(12)} vs ${truth}`);
    assert.throws(() => new HoltWintersForecaster({ period: 1 }), { code: ErrorCodes.INVALID_ARGUMENT });
  });

  it('is selected in the evaluation where a period is detected, and beats naive at half a season', () => {
    const e = evaluateSeries(seasonalSeries(800, 24, 4), { horizons: [1, 12] });
    const hw = e.sources['holt-winters']?.['12']?.mase ?? Number.NaN;
    assert.ok(hw < (e.sources['naive']?.['12']?.mase ?? 0) / 3, String(hw));
    assert.ok((e.sources['selected']?.['12']?.mase ?? Infinity) < 1.2 * hw);
    const none = evaluateSeries(ar1Series(400, 0.6, 40, 2, 9), { horizons: [1] });
    assert.equal(none.sources['holt-winters'], undefined);
  });
});
