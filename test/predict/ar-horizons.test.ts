import assert from 'node:assert/strict';
import { ArHorizons } from '../../src/predict/ar-horizons.js';
import { ArForecaster } from '../../src/predict/models.js';
import { ar1Series } from './prng.js';

/** The clamped iteration ArForecaster falls back to, written out: coef = [c, a1..ap], recent latest first. */
function iterate(coef: number[], recent: number[], h: number, low: number, high: number): number {
  const path = [...recent].reverse();
  for (let s = 0; s < h; s++) {
    let f = coef[0] ?? 0;
    for (let j = 1; j < coef.length; j++) f += (coef[j] ?? 0) * (path[path.length - j] ?? 0);
    path.push(Math.min(Math.max(f, low), high));
  }
  return path[path.length - 1] ?? Number.NaN;
}

describe('ArHorizons', () => {
  describe('#at', () => {
    it('equals the iterated forecast at every horizon proven unclamped', () => {
      const coef = [2, 0.5, 0.2, 0.1];
      const a = new ArHorizons(3);
      a.reset(Float64Array.from(coef), 0, 30, 5, 25);
      const recent = Float64Array.from([12, 9, 14]);
      assert.equal(a.inBox(recent), true);
      assert.equal(a.safeSteps(60), 60);
      for (const h of [1, 2, 3, 5, 15, 60]) {
        const want = iterate(coef, [...recent], h, 0, 30);
        assert.ok(Math.abs(a.at(h, recent) - want) < 1e-9 * Math.abs(want), `h=${h}: ${a.at(h, recent)} vs ${want}`);
      }
    });
  });

  describe('#safeSteps', () => {
    it('stops before the first step an explosive fit could clamp', () => {
      const a = new ArHorizons(1);
      // x[t+1] = 1.5 x[t]: from the box 1..2 the path leaves 0..10 at step 4 (1.5^4 * 2 > 10).
      a.reset(Float64Array.from([0, 1.5]), 0, 10, 1, 2);
      assert.equal(a.safeSteps(10), 3);
    });
  });

  describe('#inBox', () => {
    it('refuses recent values outside the fitted range', () => {
      const a = new ArHorizons(2);
      a.reset(Float64Array.from([0, 0.5, 0.2]), -10, 10, -1, 1);
      assert.equal(a.inBox(Float64Array.from([0.5, -0.5])), true);
      assert.equal(a.inBox(Float64Array.from([0.5, 1.5])), false);
    });
  });
});

describe('ArForecaster', () => {
  it('forecasts the same whether a horizon is asked alone or after longer ones', () => {
    const series = ar1Series(700, 0.7, 40, 4, 11);
    const a = new ArForecaster();
    const b = new ArForecaster();
    for (const x of series) {
      a.update(x);
      b.update(x);
      const longFirst = b.forecast(60);
      assert.equal(a.forecast(5), b.forecast(5));
      assert.equal(a.forecast(60), longFirst);
    }
  });
});
