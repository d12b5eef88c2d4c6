import assert from 'node:assert/strict';
import type { Forecaster } from '../../src/predict/forecaster.js';
import { ArForecaster, DampedHoltForecaster, EwmaForecaster, NaiveForecaster } from '../../src/predict/models.js';
import { ForecastSelector } from '../../src/predict/selector.js';
import { ErrorCodes } from '../../src/errors.js';
import { ar1Series, createGaussian } from './prng.js';

describe('ForecastSelector', () => {
  it('picks the trend model on a noisy linear trend at every horizon', () => {
    const gauss = createGaussian(3);
    const s = new ForecastSelector({ models: [new NaiveForecaster(), new EwmaForecaster(0.3), new DampedHoltForecaster(0.3, 0.1, 1)] });
    for (let t = 0; t < 600; t++) s.update(5 + 0.4 * t + 0.2 * gauss());
    for (const h of [1, 3, 12]) {
      const f = s.forecast(h);
      assert.equal(f.model, 'damped-holt', `h=${h}`);
      assert.ok(f.mase < s.mase('naive', h));
      assert.ok(f.p90 >= f.p50);
    }
  });

  it('picks the AR model on an AR(1) process, and the combination stays close to it', () => {
    const s = new ForecastSelector({ models: [new NaiveForecaster(), new EwmaForecaster(0.3), new ArForecaster()] });
    for (const x of ar1Series(1500, 0.5, 50, 3, 5)) s.update(x);
    const f = s.forecast(1);
    assert.equal(f.model, 'ar3');
    assert.ok(f.mase < 0.95 * s.mase('naive', 1), `${f.mase} vs naive ${s.mase('naive', 1)}`);
    const c = s.forecastCombined(1);
    assert.equal(c.model, 'combined');
    assert.ok(c.mase < s.mase('naive', 1));
  });

  it('answers with the first model before any forecast is scored', () => {
    const s = new ForecastSelector({ horizons: [1] });
    s.update(3);
    assert.equal(s.forecast(1).model, 'naive');
    assert.equal(s.forecast(1).point, 3);
  });

  it('asks a model that is not selected for forecasts only on every scoreEvery-th value', () => {
    const asked: number[] = [];
    let values = 0;
    const wrong: Forecaster = {
      name: 'wrong',
      update: () => void values++,
      forecast: () => {
        asked.push(values);
        return 1e6;
      },
    };
    const s = new ForecastSelector({ horizons: [1, 3], models: [new NaiveForecaster(), wrong], scoreEvery: 4, scorePhase: 1 });
    for (let t = 0; t < 40; t++) s.update(10 + (t % 3));
    // Value i (1-based count i + 1) is a full step when (i + 1) % 4 === 0: counts 4, 8, ...; once per horizon.
    assert.deepEqual([...new Set(asked)], [4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);
    assert.equal(asked.length, 20);
    assert.equal(s.forecast(1).model, 'naive');
    assert.ok(Number.isFinite(s.mase('wrong', 3)));
  });

  it('answers forecastInto as forecast, and asks a model with settle again after the value', () => {
    let level = 0;
    const late: Forecaster = {
      name: 'late',
      update: () => undefined,
      forecast: () => level,
      settle: async () => undefined,
    };
    const s = new ForecastSelector({ horizons: [1], models: [late] });
    for (let t = 0; t < 5; t++) s.update(1);
    const slot = { point: 0, p50: 0, p90: 0, model: '', mase: 0 };
    s.forecastInto(1, slot);
    assert.deepEqual(slot, { ...s.forecast(1) });
    // Its inference arrives after the value: the next answer sees it.
    level = 7;
    assert.equal(s.forecast(1).point, 7);
  });

  it('rejects a scoreEvery that is not a positive integer', () => {
    assert.throws(() => new ForecastSelector({ scoreEvery: 0 }), { code: ErrorCodes.INVALID_ARGUMENT });
    assert.throws(() => new ForecastSelector({ scoreEvery: 1.5 }), { code: ErrorCodes.INVALID_ARGUMENT });
  });

  it('rejects an untracked horizon and an unknown model', () => {
    const s = new ForecastSelector({ horizons: [1, 3] });
    assert.throws(() => s.forecast(2), { code: ErrorCodes.INVALID_ARGUMENT });
    assert.throws(() => s.forecastOf('lstm', 1), { code: ErrorCodes.INVALID_ARGUMENT });
  });
});
