import assert from 'node:assert/strict';
import http from 'node:http';
import { createRuntime, createManualClock, createSimDevice, defineTask, simulatedDevice, type Runtime } from '../../src/index.js';
import { counter } from '../fixtures.js';
import { MetricStore } from '../../src/runtime/metrics/metric-store.js';
import { nextEvent, settle } from '../helpers.js';

const busy = defineTask<number, 'work' | 'flop', unknown>({
  name: 'busy',
  init: () => 0,
  receive(n, msg, ctx) {
    if (msg === 'flop') ctx.metrics.add('flops', 1e9);
    ctx.metrics.set('last', n + 1);
    return n + 1;
  },
});

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('monitoring', () => {
  let rt: Runtime | undefined;
  afterEach(async () => rt?.shutdown());

  it('refuses a sampling interval outside 10 ms to 1 s with a typed error', () => {
    for (const intervalMs of [5, 1001, Number.NaN]) {
      assert.throws(() => createRuntime({ logger: { level: 'silent' }, monitor: { intervalMs } }), { code: 'GODWIT_ERR_INVALID_ARGUMENT' });
    }
  });

  it('samples each resource: task counters, custom metrics, power from the model, and unavailable as null', async () => {
    const clock = createManualClock();
    rt = createRuntime({
      clock,
      logger: { level: 'silent' },
      devices: [simulatedDevice({ kind: 'cpu', id: 'cpu-0', power: { idleW: 20, peakW: 100 } })],
      monitor: { intervalMs: 100, flushIntervalMs: 1000 },
    });
    const ref = rt.spawn(busy);
    clock.advance(100); // first sample: no rates yet
    for (let i = 0; i < 50; i++) rt.send(ref, 'work');
    rt.send(ref, 'flop');
    await rt.ask(ref, 'work').catch(() => {}); // NoReply: just to know the turns ran
    clock.advance(100); // second sample: 52 messages in 0.1 s
    clock.advance(800);
    const rates = rt.metrics('cpu-0', { metric: 'messagesPerS' });
    assert.equal(rates.length, 10, 'a single node records each sample at once (batches are for shipping to the RMS)');
    assert.equal(rates[0]?.value, null, 'no rate before two samples');
    assert.equal(rates[1]?.value, 520);
    assert.equal(rates[2]?.value, 0);
    const latest = (metric: string) => rt!.metrics('cpu-0', { metric }).at(-1)?.value;
    assert.equal(latest('tasks'), 1);
    assert.equal(latest('queueDepth'), 0);
    assert.equal(latest('custom.flops'), 1e9);
    assert.equal(latest('custom.last'), 52);
    assert.equal(latest('powerW'), 20, 'idle: no kernel time accounted');
    assert.equal(latest('temperatureC'), null, 'a simulated device without a thermal source reports unavailable, not 0');
    assert.equal(latest('memoryTotalBytes'), 16 * 1024 ** 3);
  });

  it('keeps a failing device sampler from stopping the monitor', async () => {
    const clock = createManualClock();
    rt = createRuntime({ clock, logger: { level: 'silent' }, devices: [simulatedDevice({ kind: 'gpu', id: 'gpu-0' })], monitor: { intervalMs: 10, flushIntervalMs: 10 } });
    let calls = 0;
    rt.monitorWith('gpu-0', () => {
      if (++calls === 2) throw new Error('nvidia-smi went away');
      return { utilization: 0.5, memoryUsedBytes: 1, memoryTotalBytes: 2, powerW: 100, temperatureC: 60 };
    });
    clock.advance(30);
    assert.deepEqual(rt.metrics('gpu-0', { metric: 'temperatureC' }).map((p) => p.value), [60, null, 60]);
    assert.throws(() => rt!.monitorWith('nope', () => ({})), { code: 'GODWIT_ERR_UNKNOWN_RESOURCE' });
  });

  it('reads a simulated device through its plugin, and fails the resource when the device fails', async () => {
    const clock = createManualClock();
    const gpu = simulatedDevice({ kind: 'gpu', id: 'gpu-0', power: { idleW: 50, peakW: 250 } });
    rt = createRuntime({ clock, logger: { level: 'silent' }, devices: [gpu, simulatedDevice({ kind: 'gpu', id: 'gpu-1' })], monitor: { intervalMs: 100, flushIntervalMs: 100 } });
    const sim = createSimDevice({ device: gpu, clock, script: { load: 0.5, incidents: [{ type: 'fail', atMs: 450, reason: 'thermal trip' }] } });
    rt.attachDevicePlugin('gpu-0', sim);
    const ref = rt.spawn(counter, { input: 3, affinity: { prefer: [{ resource: 'gpu-0' }] } });
    assert.equal(await rt.ask(ref, { type: 'get' }), 3);
    clock.advance(200);
    assert.deepEqual(rt.metrics('gpu-0', { metric: 'utilization' }).map((p) => p.value), [0.5, 0.5]);
    assert.equal(rt.metrics('gpu-0', { metric: 'powerW' }).at(-1)?.value, 150);
    const failed = nextEvent(rt, 'resource.failed');
    clock.advance(300);
    assert.equal((await failed).resource, 'gpu-0');
    clock.advance(0);
    assert.equal(await rt.ask(ref, { type: 'get' }), 3);
    assert.equal(rt.tasks()[0]?.resource, 'gpu-1');
    await sim.close();
  });

  it('serves the latest readings in the Prometheus text format, leaving unavailable ones out', async () => {
    const clock = createManualClock();
    rt = createRuntime({ name: 'prom', clock, logger: { level: 'silent' }, devices: [simulatedDevice({ kind: 'cpu', id: 'cpu-0' })], monitor: { intervalMs: 100, flushIntervalMs: 100 }, prometheus: {} });
    await rt.ready;
    clock.advance(100);
    const { status, body } = await get(rt.prometheusUrl!);
    assert.equal(status, 200);
    assert.match(body, /^godwit_utilization\{node="prom",resource="cpu-0"\} 0$/m);
    assert.match(body, /^godwit_memory_total_bytes\{node="prom",resource="cpu-0"\} 17179869184$/m);
    assert.match(body, /^godwit_dead_letters_total\{node="prom"\} 0$/m);
    assert.doesNotMatch(body, /godwit_temperature_c/);
    assert.equal((await get(rt.prometheusUrl!.replace('/metrics', '/other'))).status, 404);
  });

  it('ships an agent\'s samples to the RMS, with the round trip to the RMS', async () => {
    const secret = 'monitoring-secret';
    const rms = createRuntime({ name: 'rms', rms: true, auth: { secret }, devices: [], logger: { level: 'silent' }, heartbeatIntervalMs: 20 });
    await rms.ready;
    const agent = createRuntime({ name: 'a', join: rms.url!, auth: { secret }, devices: [simulatedDevice({ kind: 'fpga', id: 'a/fpga-0' })], logger: { level: 'silent' }, heartbeatIntervalMs: 20, monitor: { intervalMs: 20, flushIntervalMs: 40 } });
    try {
      await agent.ready;
      // Two batches: the second's samples were taken after a heartbeat came back.
      await nextEvent(rms, 'metrics.recorded', (e) => e.resources.includes('a/fpga-0') && rms.metrics('a/fpga-0', { metric: 'rttMs' }).some((p) => p.value !== null));
      const rtt = rms.metrics('a/fpga-0', { metric: 'rttMs' }).filter((p) => p.value !== null);
      assert.ok(rtt.length > 0 && rtt.every((p) => (p.value as number) >= 0));
      assert.ok(rms.metrics('a/fpga-0', { metric: 'utilization' }).length > 0);
    } finally {
      await agent.shutdown();
      await rms.shutdown();
    }
    await settle();
  });
});

describe('MetricStore', () => {
  it('keeps raw points in a bounded ring and serves older data from 1 s and 10 s buckets with mean, min and max', () => {
    const store = new MetricStore({ rawPoints: 20, secondBuckets: 30, tenSecondBuckets: 10 });
    for (let t = 0; t < 60_000; t += 100) store.record('r', t, { load: (t / 100) % 10, gap: t < 30_000 ? 1 : null });
    const raw = store.query('r', { metric: 'load', resolution: 'raw' });
    assert.equal(raw.length, 20);
    assert.equal(raw[0]?.timeMs, 58_000);
    const seconds = store.query('r', { metric: 'load', resolution: '1s' });
    assert.equal(seconds.length, 30);
    assert.deepEqual(seconds.at(-1), { timeMs: 59_000, value: 4.5, min: 0, max: 9, count: 10 });
    // Asking for the last minute picks the finest ring that still reaches back that far.
    const minute = store.query('r', { metric: 'load', sinceMs: 0 });
    assert.equal(minute.length, 6);
    assert.equal(minute[0]?.timeMs, 0);
    assert.deepEqual(store.query('r', { metric: 'gap', resolution: '10s' }).map((p) => p.value), [1, 1, 1, null, null, null]);
    assert.equal(store.bytesPerMetric, 20 * 16 + 40 * 40);
    assert.deepEqual(store.query('nope', { metric: 'load' }), []);
  });
});
