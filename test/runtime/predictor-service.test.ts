import assert from 'node:assert/strict';
import { connectDebugSocket, createManualClock, createRuntime, simulatedDevice, type ManualClock, type Runtime, type RuntimeEvent } from '../../src/index.js';
import type { ResourcePredictor } from '../../src/predict/resource-predictor.js';
import type { RuntimeImpl } from '../../src/runtime/runtime.js';
import { settle } from '../helpers.js';
import { forecastsTable } from '../../src/cli/inspect.js';

function predictingRuntime(extra: Parameters<typeof createRuntime>[0] = {}): { rt: Runtime; clock: ManualClock } {
  const clock = createManualClock();
  const rt = createRuntime({
    clock,
    logger: { level: 'silent' },
    devices: [simulatedDevice({ id: 'cpu-0', kind: 'cpu' })],
    monitor: { intervalMs: 1000 },
    predictors: { horizonsMs: [1000, 5000] },
    ...extra,
  });
  rt.monitorWith('cpu-0', (now) => ({ utilization: 0.2 + ((now / 1000) % 10) / 100, temperatureC: 40 }));
  return { rt, clock };
}

async function advance(clock: ManualClock, seconds: number): Promise<void> {
  for (let s = 0; s < seconds; s++) {
    clock.advance(1000);
    await settle(3);
  }
}

describe('PredictorService', () => {
  it('forecasts every resource\'s metrics at each horizon with P50, P90, model and MASE, and its failure risk', async () => {
    const { rt, clock } = predictingRuntime();
    await rt.ready;
    await advance(clock, 30);
    const [cpu] = rt.forecasts();
    assert.equal(cpu?.resource, 'cpu-0');
    const util = cpu!.forecasts.filter((f) => f.metric === 'utilization');
    assert.deepEqual(util.map((f) => f.horizonMs), [1000, 5000]);
    for (const f of util) {
      assert.ok(f.p90 >= f.p50 && f.p50 > 0.1 && f.p50 < 0.4, JSON.stringify(f));
      assert.equal(typeof f.model, 'string');
    }
    assert.ok(cpu!.forecasts.some((f) => f.metric === 'temperatureC'));
    assert.equal(cpu!.failure?.probability, 0);
    await rt.shutdown();
  });

  it('restarts a predictor that throws from its last good state, reports it, and keeps forecasting', async () => {
    const { rt, clock } = predictingRuntime();
    const events: RuntimeEvent[] = [];
    rt.observe((e) => events.push(e), ['predictor.restarted']);
    await rt.ready;
    await advance(clock, 10);
    const bank = (rt as unknown as RuntimeImpl).predictors!['bank'] as unknown as { get(r: string): ResourcePredictor };
    const broken = bank.get('cpu-0');
    broken.update = () => {
      throw new Error('model blew up');
    };
    await advance(clock, 2);
    assert.equal(events.length, 1);
    assert.deepEqual([events[0]!.type, (events[0] as { resource: string }).resource, (events[0] as { restarts: number }).restarts], ['predictor.restarted', 'cpu-0', 1]);
    assert.notEqual(bank.get('cpu-0'), broken, 'a new predictor took its place');
    await advance(clock, 10);
    assert.equal(events.length, 1, 'the new one works');
    assert.ok(rt.forecasts()[0]!.forecasts.length > 0);
    assert.equal(rt.forecasts()[0]!.restarts, 1);
    await rt.shutdown();
  });

  it('is served on the debug socket (`forecasts`) and off by default without a controller', async () => {
    const { rt, clock } = predictingRuntime({ debug: { port: 0, token: 'forecast-token' } });
    await rt.ready;
    await advance(clock, 5);
    const c = await connectDebugSocket(rt.debugUrl!, { token: 'forecast-token' });
    try {
      const r = await c.request<{ supported: boolean; resources: Array<{ resource: string; forecasts: unknown[] }> }>('forecasts');
      assert.equal(r.supported, true);
      assert.equal(r.resources[0]?.resource, 'cpu-0');
      assert.match(forecastsTable(r.resources as Parameters<typeof forecastsTable>[0]), /^RESOURCE\s+UTIL P50\/P90 @1s\s+UTIL P50\/P90 @5s\s+MODEL\s+FAILURE P/m);
    } finally {
      await c.close();
      await rt.shutdown();
    }
    const plain = createRuntime({ logger: { level: 'silent' }, devices: [simulatedDevice({ id: 'cpu-0', kind: 'cpu' })], monitor: { intervalMs: 1000 } });
    assert.deepEqual(plain.forecasts(), []);
    await plain.shutdown();
  });
});
