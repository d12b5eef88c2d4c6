import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/errors.js';
import { PredictorBank } from '../../src/predict/predictor-bank.js';
import { predictTaskPerformance, taskPerformanceRows } from '../../src/predict/performance.js';
import { ResourcePredictor } from '../../src/predict/resource-predictor.js';

const base = { resource: 'gpu-0', metrics: ['utilization', 'temperatureC'], stepMs: 1000 } as const;

describe('ResourcePredictor', () => {
  it('forecasts every metric at every default horizon, nothing before a first value', async () => {
    const p = new ResourcePredictor(base);
    assert.deepEqual(p.forecasts(), []);
    for (let t = 0; t < 100; t++) p.update(t * 1000, { utilization: 0.5, temperatureC: 60 });
    const fs = p.forecasts();
    assert.deepEqual(fs.map((f) => `${f.metric}@${f.horizonMs}`), ['utilization@1000', 'utilization@5000', 'utilization@15000', 'utilization@60000', 'temperatureC@1000', 'temperatureC@5000', 'temperatureC@15000', 'temperatureC@60000']);
    const u = fs[0];
    assert.ok(u && Math.abs(u.p50 - 0.5) < 1e-9 && u.resource === 'gpu-0' && u.atMs === 99_000 + 1000 && typeof u.model === 'string');
    await p.close();
  });

  it('resamples: holds the last value over missing steps, keeps the first sample of a step, and skips a null gap', () => {
    const p = new ResourcePredictor({ ...base, metrics: ['utilization'], horizonsMs: [1000] });
    const fed: number[] = [];
    // Spy on what the selector receives through the naive forecast after each update.
    const feed = (t: number, v: number | null) => {
      p.update(t, { utilization: v });
      fed.push(p.lastValue('utilization'));
    };
    feed(0, 1);
    feed(400, 2); // same step: held only
    feed(3000, 5); // steps 1, 2 filled with the held 2
    feed(4000, null); // gap
    feed(6000, 7); // no fill across the gap
    assert.deepEqual(fed, [1, 1, 5, 5, 7]);
    // naive MAE counts the fills: 1 -> 2 -> 2 -> 5 -> 7
    assert.ok(p.forecasts()[0]?.p50 !== undefined);
    assert.throws(() => p.update(1000, { utilization: 1 }), { code: ErrorCodes.INVALID_ARGUMENT });
  });

  it('adds reservations to the forecasts whose target time they cover', () => {
    const p = new ResourcePredictor({ ...base, metrics: ['utilization'], horizonsMs: [1000, 10_000] });
    for (let t = 0; t <= 10; t++) p.update(t * 1000, { utilization: 0.2 });
    p.addReservation({ startMs: 15_000, endMs: 30_000, amount: 0.3 });
    const [h1, h10] = p.forecasts();
    assert.ok(h1 && Math.abs(h1.p50 - 0.2) < 1e-9, 'at 11 s: not reserved');
    assert.ok(h10 && Math.abs(h10.p50 - 0.5) < 1e-9, 'at 20 s: reserved');
    assert.throws(() => p.addReservation({ startMs: 5, endMs: 5, amount: 1 }), { code: ErrorCodes.INVALID_ARGUMENT });
  });

  it('answers the failure risk of its temperature', () => {
    const p = new ResourcePredictor({ ...base, failure: { highC: 80 } });
    for (let t = 0; t < 12; t++) p.update(t * 60_000, { utilization: 0.5, temperatureC: 65 + t });
    assert.ok(p.failureRisk(10 * 60_000).probability > 0.9);
    assert.ok(p.failureRisk(0).probability < 0.5);
    assert.equal(new ResourcePredictor(base).failureRisk(1000).probability, 0);
  });

  it('round-trips its reservations and a trained LSTM through JSON', async () => {
    const lstm = { historySize: 120, minHistory: 120, retrainEvery: 100_000, iterations: 20 };
    const p = new ResourcePredictor({ ...base, metrics: ['utilization'], lstm });
    p.addReservation({ startMs: 0, endMs: 1e9, amount: 0.1 });
    for (let t = 0; t < 120; t++) p.update(t * 1000, { utilization: 0.5 + 0.3 * Math.sin(t / 4) });
    await p.settle();
    const state = JSON.parse(JSON.stringify(p.toJSON())) as ReturnType<ResourcePredictor['toJSON']>;
    await p.close();
    assert.deepEqual(state.reservations, [{ startMs: 0, endMs: 1e9, amount: 0.1 }]);
    assert.ok(state.lstm['utilization']);
    const q = ResourcePredictor.fromJSON(state, { ...base, metrics: ['utilization'], lstm });
    assert.deepEqual(q.toJSON(), state);
    await q.close();
  });
});

describe('PredictorBank', () => {
  it('moves each forecast toward the cluster trend by clusterWeight', async () => {
    const bank = new PredictorBank({ metrics: ['utilization'], stepMs: 1000, horizonsMs: [1000], clusterWeight: 0.5 });
    bank.add('a');
    bank.add('b');
    // a is rising by 0.01 a step, b flat; the first model forecasts flat for both (naive, until scored),
    // so the cluster change is 0 and each moves by half its own change toward it.
    for (let t = 0; t < 50; t++) {
      bank.update('a', t * 1000, { utilization: 0.1 + 0.01 * t });
      bank.update('b', t * 1000, { utilization: 0.5 });
    }
    const alone = bank.get('a').forecasts()[0]?.p50 ?? Number.NaN;
    const [fa, fb] = bank.forecastAll();
    const own = alone - bank.get('a').lastValue('utilization');
    assert.ok(Math.abs((fa?.p50 ?? 0) - (alone + 0.5 * (own / 2 - own))) < 1e-9, `${fa?.p50} vs ${alone}`);
    assert.ok(fb && Math.abs(fb.p50 - (0.5 + 0.5 * (own / 2))) < 1e-9);
    assert.throws(() => bank.get('c'), { code: ErrorCodes.UNKNOWN_RESOURCE });
    assert.throws(() => bank.add('a'), { code: ErrorCodes.INVALID_ARGUMENT });
    const restored = PredictorBank.fromJSON(bank.toJSON(), bank.defaults);
    assert.deepEqual(restored.resources(), ['a', 'b']);
    assert.deepEqual(Object.keys(bank.failureRisks(1000)), ['a', 'b']);
    await bank.close();
    await restored.close();
  });
});

describe('predictTaskPerformance', () => {
  const profile = { msPerMessageByKind: { cpu: 4, gpu: 1 } };

  it('stretches the service time by 1 / (1 - u) at P50 and P90, capped', () => {
    const r = predictTaskPerformance(profile, 'cpu', { p50: 0.5, p90: 0.75 });
    assert.deepEqual(r, { kind: 'cpu', serviceMs: 4, latencyMsP50: 8, latencyMsP90: 16, throughputPerSecP50: 125, throughputPerSecP90: 62.5 });
    assert.equal(predictTaskPerformance(profile, 'gpu', { p50: 1.2, p90: 1 }, { maxStretch: 10 })?.latencyMsP90, 10);
    assert.equal(predictTaskPerformance(profile, 'fpga', { p50: 0, p90: 0 }), undefined);
    assert.throws(() => predictTaskPerformance({ msPerMessageByKind: { cpu: 0 } }, 'cpu', { p50: 0, p90: 0 }), { code: ErrorCodes.INVALID_ARGUMENT });
  });

  it('tabulates each task on every resource of a kind it has a cost for: where it runs first, then by P90 latency', () => {
    const rows = taskPerformanceRows(
      [
        { id: 't1', resource: 'cpu-0', costMsByKind: { cpu: 4, gpu: 1 } },
        { id: 't2', resource: 'gpu-0' }, // no cost known: no rows
      ],
      [
        { id: 'cpu-0', kind: 'cpu', utilization: { p50: 0.5, p90: 0.75 } },
        { id: 'gpu-0', kind: 'gpu', utilization: { p50: 0.9, p90: 0.95 } },
        { id: 'gpu-1', kind: 'gpu', utilization: { p50: 0, p90: 0.5 } },
        { id: 'fpga-0', kind: 'fpga', utilization: { p50: 0, p90: 0 } },
      ],
    );
    assert.deepEqual(
      rows.map((r) => [r.task, r.resource, r.current, Math.round(r.latencyMsP90 * 1e6) / 1e6]),
      [
        ['t1', 'cpu-0', true, 16],
        ['t1', 'gpu-1', false, 2],
        ['t1', 'gpu-0', false, 20],
      ],
    );
  });
});
