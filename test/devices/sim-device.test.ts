import assert from 'node:assert/strict';
import path from 'node:path';
import { createManualClock } from '../../src/runtime/clock.js';
import { simulatedDevice } from '../../src/devices/simulated.js';
import { createSimDevice, type SimFailure } from '../../src/devices/sim-device.js';
import { readNabCsv, readPlanetLab } from '../../src/devices/traces.js';
import { recordPluginEvents, recordingLogger, sharedDataDir } from './device-test-helpers.js';

const nabFile = path.join(sharedDataDir, 'nab', 'realAWSCloudwatch', 'ec2_cpu_utilization_5f5533.csv');
const planetLabFile = path.join(sharedDataDir, 'planetlab', '20110303', 'aladdin_planetlab_extranet_uni-passau_de_ rnp_dcc_ufjf');
const close = (a: number | null, b: number, eps = 1e-9): void => assert.ok(a !== null && Math.abs(a - b) < eps, `${a} != ${b}`);

describe('SimDevice', () => {
  describe('#sample', () => {
    it('replays a NAB trace at a speed-up on the manual clock', async () => {
      const trace = await readNabCsv(nabFile);
      const clock = createManualClock();
      const device = simulatedDevice({ kind: 'cpu', id: 'cpu-sim', power: { idleW: 20, peakW: 120 } });
      // 300x: one 5-minute trace step per clock second.
      const sim = createSimDevice({ device, clock, trace, speedup: 300, logger: recordingLogger() });
      let s = sim.sample('cpu-sim');
      close(s.metrics.utilization, 0.51846);
      close(s.metrics.powerW, 20 + 100 * 0.51846);
      assert.equal(s.metrics['speedFactor'], 1);
      assert.equal(s.metrics.memoryTotalBytes, device.memoryBytes);
      assert.equal(s.metrics.memoryUsedBytes, null, 'no memory model: unavailable');
      clock.advance(500);
      close(sim.sample('cpu-sim').metrics.utilization, (0.51846 + 0.44508) / 2);
      clock.advance(500);
      s = sim.sample('cpu-sim');
      assert.equal(s.timeMs, 1000);
      close(s.metrics.utilization, 0.44508);
      assert.equal(sim.deviceTimeMs(), 300_000);
      await sim.close();
    });

    it('replays a PlanetLab day from an offset and holds the last value after the end', async () => {
      const trace = await readPlanetLab(planetLabFile);
      const clock = createManualClock(10_000);
      const sim = createSimDevice({ device: simulatedDevice({ kind: 'gpu', id: 'g' }), clock, trace, traceOffsetMs: 300_000, speedup: 1000 });
      close(sim.sample('g').metrics.utilization, 0.76);
      clock.advance(600); // 600 000 device ms later: trace minute 15
      close(sim.sample('g').metrics.utilization, (trace.values[3] ?? 0) / 100);
      clock.advance(86_400);
      close(sim.sample('g').metrics.utilization, (trace.values[287] ?? 0) / 100);
      const [d] = await sim.discover();
      assert.equal(d?.labels['trace'], 'aladdin_planetlab_extranet_uni-passau_de_ rnp_dcc_ufjf');
      assert.equal(d?.labels['simulated'], 'true');
      await sim.close();
    });

    it('follows the first-order thermal model, whatever the sampling rate', async () => {
      const make = () => {
        const clock = createManualClock();
        const sim = createSimDevice({
          device: simulatedDevice({ kind: 'gpu', id: 'g', power: { idleW: 30, peakW: 300 } }),
          clock,
          script: { load: (t) => (t < 10_000 ? 0 : 1) },
          thermal: { ambientC: 25, cPerW: 0.2, tauMs: 60_000, stepMs: 1000 },
        });
        return { clock, sim };
      };
      const a = make();
      const b = make();
      // Idle: steady at 25 + 0.2 * 30 = 31 C.
      close(a.sim.sample('g').metrics.temperatureC, 31);
      for (let i = 0; i < 70; i++) {
        a.clock.advance(1000);
        a.sim.sample('g');
      }
      b.clock.advance(70_000);
      const ta = a.sim.sample('g').metrics.temperatureC;
      const tb = b.sim.sample('g').metrics.temperatureC;
      assert.equal(ta, tb, 'same temperature sampled every second or once');
      // Full load from t = 10 s towards 25 + 0.2 * 300 = 85 C; after one time constant: 1 - 1/e of the way.
      close(ta, 85 + (31 - 85) * Math.exp(-1), 1e-6);
      await a.sim.close();
      await b.sim.close();
    });

    it('throttles, heats up and fails as scripted, on device time', async () => {
      const clock = createManualClock();
      const sim = createSimDevice({
        device: simulatedDevice({ kind: 'fpga', id: 'f', power: { idleW: 10, peakW: 110 } }),
        clock,
        speedup: 10,
        script: {
          load: 0.5,
          memoryUsedBytes: (t) => 1000 + t,
          incidents: [
            { type: 'throttle', atMs: 20_000, factor: 0.5, durationMs: 10_000 },
            { type: 'heat', atMs: 40_000, targetC: 95, tauMs: 10_000 },
            { type: 'fail', atMs: 100_000, reason: 'thermal shutdown' },
          ],
        },
        thermal: { ambientC: 20, cPerW: 0.5 },
        logger: recordingLogger(),
      });
      const events = recordPluginEvents(sim);
      const failures: SimFailure[] = [];
      sim.onFailed((f) => failures.push(f));
      assert.equal(sim.sample('f').metrics.powerW, 60);
      assert.equal(sim.sample('f').metrics.memoryUsedBytes, 1000);
      close(sim.sample('f').metrics.temperatureC, 50);
      clock.advance(2_000); // device 20 s: throttled
      let s = sim.sample('f');
      assert.equal(s.metrics['speedFactor'], 0.5);
      assert.equal(s.metrics.powerW, 35);
      clock.advance(1_000); // device 30 s: throttle over
      assert.equal(sim.sample('f').metrics['speedFactor'], 1);
      clock.advance(2_000); // device 50 s: heating towards 95 C with tau 10 s for 10 s
      const t50 = sim.sample('f').metrics.temperatureC ?? 0;
      assert.ok(t50 > 70 && t50 < 95, String(t50));
      assert.equal(failures.length, 0);
      clock.advance(4_999);
      assert.equal(failures.length, 0);
      clock.advance(1); // clock 10 000 = device 100 s
      assert.deepEqual(failures, [{ deviceId: 'f', timeMs: 10_000, deviceTimeMs: 100_000, reason: 'thermal shutdown' }]);
      assert.ok(events.some((e) => e.type === 'failed' && e.reason === 'thermal shutdown'));
      s = sim.sample('f');
      assert.equal(s.metrics.utilization, null);
      assert.deepEqual(s.errors, ['device failed: thermal shutdown']);
      assert.equal(sim.status().available, false);
      await sim.close();
      assert.equal(clock.pending(), 0);
    });

    it('cancels a scripted failure on close and rejects nonsense options', async () => {
      const clock = createManualClock();
      const device = simulatedDevice({ kind: 'asic', id: 'a' });
      const sim = createSimDevice({ device, clock, script: { incidents: [{ type: 'fail', atMs: 5_000 }] } });
      assert.equal(clock.pending(), 1);
      await sim.close();
      assert.equal(clock.pending(), 0);
      assert.throws(() => createSimDevice({ device, clock, speedup: 0 }), { code: 'GODWIT_ERR_INVALID_ARGUMENT' });
      assert.throws(() => createSimDevice({ device, clock, script: { incidents: [{ type: 'throttle', atMs: 0, factor: 2 }] } }), {
        code: 'GODWIT_ERR_INVALID_ARGUMENT',
      });
    });
  });
});
