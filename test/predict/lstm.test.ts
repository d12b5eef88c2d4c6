import assert from 'node:assert/strict';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ErrorCodes } from '../../src/errors.js';
import { evaluateSeriesAsync } from '../../src/predict/evaluate.js';
import { LstmForecaster, type LstmTrainedEvent } from '../../src/predict/lstm.js';

const sine = (t: number): number => 50 + 30 * Math.sin(t / 5);
const small = { historySize: 200, minHistory: 200, retrainEvery: 100_000, iterations: 80, hiddenSize: 8 } as const;

describe('LstmForecaster', () => {
  let models: LstmForecaster[] = [];
  const create = (options = {}): LstmForecaster => {
    const m = new LstmForecaster({ ...small, ...options });
    models.push(m);
    return m;
  };
  afterEach(async () => {
    await Promise.all(models.map((m) => m.close()));
    models = [];
  });

  it('trains in its worker, not on the event loop, then forecasts a sine', async function () {
    // The 5 ms stall target is measured by `godwit bench predictor`, not here (no timing targets in unit tests):
    // this asserts the structure, that training does not run on the loop (inline it would stall it by the whole training).
    this.retries(2);
    const m = create();
    for (let t = 0; t < 199; t++) m.update(sine(t));
    assert.ok(Number.isNaN(m.forecast(1)), 'NaN before the first model');
    const trained = once(m, 'trained');
    m.update(sine(199));
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const [event] = (await trained) as [LstmTrainedEvent];
    delay.disable();
    assert.ok(event.durationMs > 20, `training took ${event.durationMs} ms, too short to show a stall`);
    assert.ok(delay.max / 1e6 < event.durationMs / 2, `event loop stalled ${delay.max / 1e6} ms during a ${event.durationMs} ms training`);
    await m.settle();
    let err = 0;
    for (let t = 200; t < 230; t++) {
      err += Math.abs(m.forecast(1) - sine(t));
      m.update(sine(t));
      await m.settle();
    }
    // Naive one-step error on this sine is ~4.7 on average.
    assert.ok(err / 30 < 3, `mean one-step error ${err / 30}`);
  });

  it('exports its network and a fresh instance forecasts the same from it', async () => {
    const a = create();
    for (let t = 0; t < 200; t++) a.update(sine(t));
    await a.settle();
    const model = JSON.parse(JSON.stringify(a.exportModel())) as unknown;
    const b = create();
    b.importModel(model);
    for (let t = 188; t < 200; t++) b.update(sine(t));
    await b.settle();
    assert.equal(b.trainings, 0);
    assert.ok(Number.isFinite(a.forecast(3)));
    assert.equal(b.forecast(3), a.forecast(3));
  });

  it('rejects a malformed model with its code', () => {
    assert.throws(() => create().importModel({ version: 1, windowSize: 5, min: 0, max: 1, net: {} }), { code: ErrorCodes.FORECAST_MODEL });
    assert.throws(() => create().importModel(null), { code: ErrorCodes.FORECAST_MODEL });
  });

  it('after close it keeps taking values, forecasts nothing new and settles at once', async () => {
    const m = create();
    await m.close();
    for (let t = 0; t < 300; t++) m.update(sine(t));
    await m.settle();
    assert.ok(Number.isNaN(m.forecast(1)));
  });

  it('competes in the asynchronous evaluation and closes its worker', async () => {
    const values = Array.from({ length: 500 }, (_, t) => sine(t));
    const e = await evaluateSeriesAsync(values, { horizons: [1, 3], period: 'none', extraModels: () => [create({ retrainEvery: 400 })] });
    const lstm = e.sources['lstm']?.['1'];
    assert.ok(lstm && lstm.scored > 200, JSON.stringify(lstm));
    assert.ok(lstm.mase < (e.sources['naive']?.['1']?.mase ?? 0), `lstm ${lstm.mase}`);
  });
});
