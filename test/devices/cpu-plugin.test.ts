import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createManualClock } from '../../src/runtime/clock.js';
import { createCpuPlugin } from '../../src/devices/cpu-plugin.js';
import { DeviceSourceError } from '../../src/devices/device-errors.js';
import { fixture, recordPluginEvents, recordingLogger, scratchCopy } from './device-test-helpers.js';

const GiB = 1024 ** 3;

/** A /proc/stat with the given per-core (busy, idle) jiffies; the aggregate line is their sum. */
function procStat(cores: Array<[busy: number, idle: number]>): string {
  const line = (label: string, busy: number, idle: number): string => `${label} ${busy} 0 0 ${idle} 0 0 0 0 0 0`;
  const busy = cores.reduce((n, c) => n + c[0], 0);
  const idle = cores.reduce((n, c) => n + c[1], 0);
  return [line('cpu ', busy, idle), ...cores.map((c, i) => line(`cpu${i}`, c[0], c[1])), 'ctxt 1', ''].join('\n');
}

describe('CpuPlugin', () => {
  let scratch: { root: string; remove(): void } | undefined;
  afterEach(() => {
    scratch?.remove();
    scratch = undefined;
  });

  describe('#discover', () => {
    it('describes the CPU from /proc and lists every metric it will report', async () => {
      const plugin = createCpuPlugin({ procRoot: fixture('cpu-host', 'proc'), sysRoot: fixture('cpu-host', 'sys'), logger: recordingLogger() });
      const [cpu, ...rest] = await plugin.discover();
      assert.equal(rest.length, 0);
      assert.ok(cpu);
      assert.equal(cpu.id, 'cpu-host');
      assert.equal(cpu.kind, 'cpu');
      assert.equal(cpu.model, 'Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz');
      assert.equal(cpu.memoryBytes, 65842296 * 1024);
      assert.equal(cpu.labels['cores'], '4');
      for (const cap of ['avx2', 'avx512f', 'avx512_vnni']) assert.ok(cpu.capabilities.includes(cap), cap);
      for (const m of ['utilization', 'powerW', 'temperatureC', 'powerDramW', 'loadAvg15', 'utilizationCore0', 'utilizationCore3']) {
        assert.ok(cpu.metrics.includes(m), m);
      }
      assert.deepEqual(cpu.unavailable, {});
      assert.deepEqual(plugin.status(), { available: true });
      await plugin.close();
    });

    it('reports absent and unreadable sources as unavailable, and their metrics as null, not 0', async () => {
      const plugin = createCpuPlugin({ procRoot: fixture('cpu-bare', 'proc'), sysRoot: fixture('cpu-bare', 'sys'), logger: recordingLogger() });
      const [cpu] = await plugin.discover();
      assert.ok(cpu);
      assert.match(cpu.unavailable['powerW'] ?? '', /energy_uj: is a directory/);
      assert.match(cpu.unavailable['temperatureC'] ?? '', /no thermal zone/);
      assert.match(cpu.unavailable['loadAvg1'] ?? '', /loadavg: missing/);
      assert.equal(cpu.metrics.includes('powerDramW'), false);
      const s = plugin.sample('cpu-host');
      assert.equal(s.metrics.powerW, null);
      assert.equal(s.metrics.temperatureC, null);
      assert.equal(s.metrics['loadAvg1'], null);
      // No MemAvailable (kernel < 3.14): MemFree + Buffers + Cached.
      assert.equal(s.metrics.memoryTotalBytes, 4030184 * 1024);
      assert.equal(s.metrics.memoryUsedBytes, (4030184 - 912344 - 101220 - 1433120) * 1024);
      assert.equal(s.errors, undefined);
      await plugin.close();
    });

    it('reports garbage found at discovery as unavailable with the line', async () => {
      const plugin = createCpuPlugin({ procRoot: fixture('cpu-garbage', 'proc'), sysRoot: fixture('cpu-garbage', 'sys'), logger: recordingLogger() });
      const [cpu] = await plugin.discover();
      assert.match(cpu?.unavailable['utilization'] ?? '', /stat/);
      assert.match(cpu?.unavailable['memoryUsedBytes'] ?? '', /meminfo/);
      const s = plugin.sample('cpu-host');
      assert.equal(s.metrics.utilization, null);
      assert.equal(s.metrics['loadAvg1'], 1.52);
      await plugin.close();
    });
  });

  describe('#sample', () => {
    it('computes utilization from /proc/stat deltas, whole and per core', async () => {
      scratch = scratchCopy('cpu-host');
      const stat = path.join(scratch.root, 'proc', 'stat');
      writeFileSync(stat, procStat([[1000, 1000], [1000, 1000], [1000, 1000], [1000, 1000]]));
      const plugin = createCpuPlugin({ procRoot: path.join(scratch.root, 'proc'), sysRoot: path.join(scratch.root, 'sys'), logger: recordingLogger() });
      await plugin.discover();
      writeFileSync(stat, procStat([[1100, 1000], [1000, 1100], [1050, 1050], [1075, 1025]]));
      const s = plugin.sample('cpu-host');
      assert.equal(s.metrics.utilization, (100 + 0 + 50 + 75) / 400);
      assert.equal(s.metrics['utilizationCore0'], 1);
      assert.equal(s.metrics['utilizationCore1'], 0);
      assert.equal(s.metrics['utilizationCore2'], 0.5);
      assert.equal(s.metrics['utilizationCore3'], 0.75);
      // No jiffy passed: the last value, not 0 or NaN.
      assert.equal(plugin.sample('cpu-host').metrics.utilization, 225 / 400);
      assert.equal(s.metrics.memoryUsedBytes, (65842296 - 58213040) * 1024);
      assert.ok((s.metrics.memoryTotalBytes ?? 0) > 60 * GiB);
      assert.deepEqual([s.metrics['loadAvg1'], s.metrics['loadAvg5'], s.metrics['loadAvg15']], [1.52, 1.18, 0.97]);
      await plugin.close();
    });

    it('turns RAPL energy deltas into watts over the clock, across the counter wrap-around', async () => {
      scratch = scratchCopy('cpu-host');
      const zone = (z: string) => path.join(scratch!.root, 'sys', 'class', 'powercap', z, 'energy_uj');
      const clock = createManualClock(5_000);
      const plugin = createCpuPlugin({ procRoot: path.join(scratch.root, 'proc'), sysRoot: path.join(scratch.root, 'sys'), clock, logger: recordingLogger() });
      await plugin.discover();
      assert.equal(plugin.sample('cpu-host').metrics.powerW, null, 'first reading has no delta');
      const pkg0 = 262_140_000_000;
      const max = 262_143_328_850;
      clock.advance(1000);
      writeFileSync(zone('intel-rapl:0'), `${pkg0 + 85_000_000}\n`);
      writeFileSync(zone('intel-rapl:0:0'), `${48_211_930_017 + 12_500_000}\n`);
      let s = plugin.sample('cpu-host');
      assert.equal(s.metrics.powerW, 85);
      assert.equal(s.metrics['powerDramW'], 12.5);
      clock.advance(2000);
      // 180 J more in 2 s, but the counter wrapped at max_energy_range_uj.
      writeFileSync(zone('intel-rapl:0'), `${pkg0 + 85_000_000 + 180_000_000 - max}\n`);
      s = plugin.sample('cpu-host');
      assert.ok(Math.abs((s.metrics.powerW ?? 0) - 90) < 1e-9, String(s.metrics.powerW));
      assert.equal(s.errors, undefined);
      await plugin.close();
    });

    it('reads the hottest CPU sensor in degrees C, ignoring nvme and acpitz', async () => {
      const plugin = createCpuPlugin({ procRoot: fixture('cpu-host', 'proc'), sysRoot: fixture('cpu-host', 'sys'), logger: recordingLogger() });
      await plugin.discover();
      assert.equal(plugin.sample('cpu-host').metrics.temperatureC, 54);
      await plugin.close();
    });

    it('turns garbage into a typed error logged once, null for that metric, and recovers', async () => {
      scratch = scratchCopy('cpu-host');
      const stat = path.join(scratch.root, 'proc', 'stat');
      const good = readFileSync(stat, 'utf8');
      const log = recordingLogger();
      const plugin = createCpuPlugin({ procRoot: path.join(scratch.root, 'proc'), sysRoot: path.join(scratch.root, 'sys'), logger: log });
      await plugin.discover();
      const events = recordPluginEvents(plugin);
      writeFileSync(stat, 'cpu  1 2 three 4\n');
      for (let i = 0; i < 3; i++) {
        const s = plugin.sample('cpu-host');
        assert.equal(s.metrics.utilization, null);
        assert.equal(s.metrics['utilizationCore0'], null);
        assert.equal(s.metrics.memoryTotalBytes, 65842296 * 1024, 'other metrics unaffected');
        assert.match(s.errors?.[0] ?? '', /proc\/stat line 1 .*expected at least 4 non-negative counters/);
      }
      const warnings = log.at('warn');
      assert.equal(warnings.length, 1, 'logged once, not per sample');
      const err = (warnings[0]?.obj as { err: unknown }).err;
      assert.ok(err instanceof DeviceSourceError);
      assert.equal(err.code, 'GODWIT_ERR_DEVICE_SOURCE');
      assert.equal(err.line, 1);
      assert.equal(err.metric, 'utilization');
      assert.equal(events.filter((e) => e.type === 'error').length, 3, 'every occurrence is an event');
      writeFileSync(stat, good.replace(/^cpu {2}(\d+)/m, (_m, n: string) => `cpu  ${Number(n) + 400}`));
      const s = plugin.sample('cpu-host');
      assert.equal(s.errors, undefined);
      assert.equal(typeof s.metrics.utilization, 'number');
      assert.equal(log.at('info').filter((e) => e.msg === 'device source recovered').length, 1);
      await plugin.close();
    });

    it('gives null plus an error when a source disappears, and never throws', async () => {
      scratch = scratchCopy('cpu-host');
      const plugin = createCpuPlugin({ procRoot: path.join(scratch.root, 'proc'), sysRoot: path.join(scratch.root, 'sys'), logger: recordingLogger() });
      await plugin.discover();
      const temp = path.join(scratch.root, 'sys', 'class', 'hwmon', 'hwmon1', 'temp3_input');
      rmSync(temp);
      mkdirSync(temp); // now a directory: unreadable as a file
      const s = plugin.sample('cpu-host');
      assert.equal(s.metrics.temperatureC, 53, 'the other sensors still count');
      assert.match(s.errors?.join() ?? '', /temp3_input .*is a directory/);
      rmSync(path.join(scratch.root, 'proc', 'meminfo'));
      assert.equal(plugin.sample('cpu-host').metrics.memoryUsedBytes, null);
      assert.deepEqual(plugin.sample('gpu-0').errors, ['no cpu device gpu-0 (this plugin reports cpu-host)']);
      await plugin.close();
      const closed = plugin.sample('cpu-host');
      assert.equal(closed.metrics.utilization, null);
      assert.deepEqual(closed.errors, ['plugin closed']);
    });
  });
});
