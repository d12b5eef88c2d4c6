import assert from 'node:assert/strict';
import { ForecastErrors, ResidualQuantiles } from '../../src/predict/forecaster.js';
import { EwmaForecaster } from '../../src/predict/models.js';
import { createGaussian } from './prng.js';

describe('ResidualQuantiles', () => {
  it('answers interpolated quantiles of the kept residuals', () => {
    const q = new ResidualQuantiles(101);
    for (let i = 100; i >= 0; i--) q.add(i);
    assert.equal(q.quantile(0.5), 50);
    assert.equal(q.quantile(0.9), 90);
    assert.equal(q.quantile(0), 0);
    assert.equal(q.meanAbs(), 50);
  });

  it('forgets the oldest residual once full', () => {
    const q = new ResidualQuantiles(3);
    for (const r of [100, -5, 1, 2]) q.add(r);
    assert.equal(q.size, 3);
    assert.equal(q.quantile(1), 2);
    assert.equal(q.quantile(0), -5);
    assert.ok(Math.abs(q.meanAbs() - 8 / 3) < 1e-12);
  });

  it('is 0 when empty', () => {
    assert.equal(new ResidualQuantiles().quantile(0.9), 0);
  });
});

describe('ForecastErrors', () => {
  it('scores an h-step forecast against the value h steps later', () => {
    const e = new ForecastErrors([2]);
    e.observe(0);
    e.issue(2, 10);
    e.observe(0);
    e.issue(2, 0);
    assert.equal(e.scored(2), 0);
    e.observe(13);
    assert.equal(e.scored(2), 1);
    assert.equal(e.mae(2), 3);
    assert.deepEqual(e.band(2, 5), { point: 5, p50: 8, p90: 8 });
  });

  it('gives P90 bands that cover about 90 % of white noise', () => {
    const gauss = createGaussian(11);
    const model = new EwmaForecaster(0.1);
    const e = new ForecastErrors([1, 3], 300);
    let covered = 0;
    let total = 0;
    let pending: number[] = [];
    for (let t = 0; t < 4000; t++) {
      const y = 20 + 3 * gauss();
      if (t >= 1000 && pending.length > 0) {
        total++;
        if (y <= (pending[0] ?? Number.NaN)) covered++;
      }
      e.observe(y);
      model.update(y);
      for (const h of [1, 3]) e.issue(h, model.forecast(h));
      pending = [e.band(1, model.forecast(1)).p90];
    }
    const share = covered / total;
    assert.ok(share > 0.86 && share < 0.94, `coverage ${share}`);
  });
});
