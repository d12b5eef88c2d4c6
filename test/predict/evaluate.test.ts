import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readNabCsv } from '../../src/devices/traces.js';
import { evaluateSeries, median, summarize, SELECTED } from '../../src/predict/evaluate.js';
import { ar1Series } from './prng.js';

// dist/test/predict/x.test.js -> ../../../../shared/data/...
const nabFile = fileURLToPath(new URL('../../../../shared/data/nab/realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv', import.meta.url));

describe('evaluateSeries', () => {
  it('scores the second half of an AR(1) series for every model, selected and combined', () => {
    const e = evaluateSeries(ar1Series(800, 0.6, 40, 2, 9), { horizons: [1, 3] });
    assert.deepEqual(Object.keys(e.sources), ['naive', 'ewma', 'kalman', 'damped-holt', 'ar3', 'median49', 'selected', 'combined']);
    const h1 = e.sources['ar3']?.['1'];
    assert.ok(h1);
    assert.equal(h1.scored, 400 - 1 + 1);
    assert.ok(h1.mase < (e.sources['naive']?.['1']?.mase ?? 0));
    assert.ok(h1.coverageP90 > 0.8 && h1.coverageP90 < 0.97, String(h1.coverageP90));
  });

  it('summarizes many series by per-horizon medians', () => {
    const evals = [1, 2, 3].map((seed) => evaluateSeries(ar1Series(300, 0.6, 40, 2, seed), { horizons: [1] }));
    const s = summarize(evals);
    assert.equal(s.series, 3);
    assert.equal(s.sources['naive']?.['1']?.mase, median(evals.map((e) => e.sources['naive']?.['1']?.mase ?? Number.NaN)));
    assert.equal(median([3, 1, 2, 10]), 2.5);
  });

  it('on a real NAB CPU series, the selected model at one step is no worse than naive', async () => {
    const series = await readNabCsv(nabFile);
    const e = evaluateSeries(series.values, { horizons: [1, 3, 12] });
    const selected = e.sources[SELECTED]?.['1']?.mase ?? Number.NaN;
    const naive = e.sources['naive']?.['1']?.mase ?? Number.NaN;
    assert.ok(Number.isFinite(selected), String(selected));
    assert.ok(selected <= naive * 1.05, `selected ${selected} vs naive ${naive}`);
  });
});
