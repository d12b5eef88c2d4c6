import assert from 'node:assert/strict';
import { ArForecaster, DampedHoltForecaster, DualGainForecaster, EwmaForecaster, NaiveForecaster, RollingMedianForecaster, createBaselineModels } from '../../src/predict/models.js';
import { ErrorCodes } from '../../src/errors.js';
import { ar1Series, createRandom } from './prng.js';

describe('forecasting models', () => {
  describe('on a constant series', () => {
    it('every baseline forecasts the constant at every horizon', () => {
      for (const m of createBaselineModels()) {
        assert.ok(Number.isNaN(m.forecast(1)), `${m.name} before any value`);
        for (let i = 0; i < 400; i++) m.update(42);
        for (const h of [1, 3, 12]) assert.ok(Math.abs(m.forecast(h) - 42) < 1e-6, `${m.name} h=${h}: ${m.forecast(h)}`);
      }
    });
  });

  describe('NaiveForecaster', () => {
    it('forecasts the last value and rejects a bad horizon with its code', () => {
      const m = new NaiveForecaster();
      m.update(1);
      m.update(7);
      assert.equal(m.forecast(5), 7);
      assert.throws(() => m.forecast(0), { code: ErrorCodes.INVALID_ARGUMENT });
      assert.throws(() => m.forecast(1.5), { code: ErrorCodes.INVALID_ARGUMENT });
    });
  });

  describe('EwmaForecaster', () => {
    it('moves alpha of the way to each value', () => {
      const m = new EwmaForecaster(0.25);
      m.update(0);
      m.update(100);
      assert.equal(m.forecast(1), 25);
      assert.throws(() => new EwmaForecaster(0), { code: ErrorCodes.INVALID_ARGUMENT });
    });
  });

  describe('DualGainForecaster', () => {
    it('rises with the fast gain and decays with the slow one', () => {
      const m = new DualGainForecaster(0.8, 0.1);
      m.update(10);
      m.update(20);
      assert.ok(Math.abs(m.forecast(1) - 18) < 1e-9);
      m.update(8);
      assert.ok(Math.abs(m.forecast(1) - 17) < 1e-9);
    });
  });

  describe('DampedHoltForecaster', () => {
    it('extrapolates a linear trend (phi = 1) and damps it (phi < 1)', () => {
      const straight = new DampedHoltForecaster(0.5, 0.2, 1);
      const damped = new DampedHoltForecaster(0.5, 0.2, 0.8);
      for (let t = 0; t < 200; t++) {
        straight.update(3 + 2 * t);
        damped.update(3 + 2 * t);
      }
      const last = 3 + 2 * 199;
      assert.ok(Math.abs(straight.forecast(5) - (last + 10)) < 1e-6, String(straight.forecast(5)));
      assert.ok(damped.forecast(5) > last && damped.forecast(5) < last + 10);
      assert.ok(damped.forecast(100) < last + 2 * (0.8 / 0.2) + 1e-6, 'the damped trend adds at most phi/(1-phi) steps');
    });
  });

  describe('ArForecaster', () => {
    it('recovers an AR(1) process: the one-step forecast is near mean + phi (x - mean)', () => {
      const series = ar1Series(600, 0.8, 50, 2, 7);
      const m = new ArForecaster({ order: 3, windowSize: 500, refitEvery: 50 });
      for (const x of series) m.update(x);
      const last = series[series.length - 1] ?? 0;
      const ideal = 50 + 0.8 * (last - 50);
      assert.ok(Math.abs(m.forecast(1) - ideal) < 0.6, `${m.forecast(1)} vs ${ideal}`);
      const idealFar = 50 + 0.8 ** 12 * (last - 50);
      assert.ok(Math.abs(m.forecast(12) - idealFar) < 1.5, `${m.forecast(12)} vs ${idealFar}`);
    });

    it('continues a linear trend', () => {
      const m = new ArForecaster({ order: 2, windowSize: 60, refitEvery: 10 });
      for (let t = 0; t < 100; t++) m.update(10 + 0.5 * t);
      assert.ok(Math.abs(m.forecast(1) - (10 + 0.5 * 100)) < 0.05, String(m.forecast(1)));
    });

    it('rejects a window too small for its order', () => {
      assert.throws(() => new ArForecaster({ order: 3, windowSize: 10 }), { code: ErrorCodes.INVALID_ARGUMENT });
    });
  });

  describe('RollingMedianForecaster', () => {
    it('is the median of the last `window` values, whatever their order (against a sort)', () => {
      const random = createRandom(11);
      const m = new RollingMedianForecaster(7);
      const seen: number[] = [];
      for (let i = 0; i < 300; i++) {
        // Repeated values too: ties must leave the sorted window intact.
        const x = Math.floor(random() * 20);
        m.update(x);
        seen.push(x);
        const window = seen.slice(-7).sort((a, b) => a - b);
        const n = window.length;
        const expected = n % 2 === 1 ? window[n >> 1] : ((window[n / 2 - 1] ?? 0) + (window[n / 2] ?? 0)) / 2;
        assert.equal(m.forecast(1), expected, `after ${i + 1} values`);
      }
    });

    it('ignores a burst shorter than half its window and follows a level shift once it has lasted that long', () => {
      const m = new RollingMedianForecaster(9);
      for (let i = 0; i < 20; i++) m.update(10);
      for (let i = 0; i < 4; i++) m.update(90);
      assert.equal(m.forecast(3), 10, 'a 4-step burst in a 9-step window leaves the level');
      m.update(90);
      assert.equal(m.forecast(3), 90, 'the fifth step of the new level moves it');
      assert.equal(m.name, 'median9');
      assert.ok(Number.isNaN(new RollingMedianForecaster().forecast(1)), 'NaN before a value');
    });

    it('rejects a window that is not a positive integer', () => {
      assert.throws(() => new RollingMedianForecaster(0), { code: ErrorCodes.INVALID_ARGUMENT });
      assert.throws(() => new RollingMedianForecaster(2.5), { code: ErrorCodes.INVALID_ARGUMENT });
    });
  });
});
