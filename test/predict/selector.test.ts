import assert from 'node:assert/strict';
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

  it('rejects an untracked horizon and an unknown model', () => {
    const s = new ForecastSelector({ horizons: [1, 3] });
    assert.throws(() => s.forecast(2), { code: ErrorCodes.INVALID_ARGUMENT });
    assert.throws(() => s.forecastOf('lstm', 1), { code: ErrorCodes.INVALID_ARGUMENT });
  });
});
