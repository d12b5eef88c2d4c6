import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createManualClock } from '../../src/runtime/clock.js';
import { DeviceCommandError, DeviceSourceError } from '../../src/devices/device-errors.js';
import { createHwmonAdapter } from '../../src/devices/hwmon-adapter.js';
import { syncSampler } from '../../src/devices/plugin.js';
import { createVendorPlugin } from '../../src/devices/vendor-adapter.js';
import { createXbutilAdapter, parseXbutilExamine } from '../../src/devices/xbutil.js';
import { fixture, nextPluginEvent, recordingLogger } from './device-test-helpers.js';

const GiB = 1024 ** 3;
const fakeXbutil = fixture('fake-xbutil.mjs');
const examineJson = fixture('xbutil-examine.json');
const u250 = 'fpga-0000:3b:00.1';
const u55c = 'fpga-0000:d8:00.1';

function xbutilPlugin(flags: string[], timeoutMs = 5_000) {
  const clock = createManualClock();
  const log = recordingLogger();
  const adapter = createXbutilAdapter({ command: process.execPath, prefixArgs: [fakeXbutil, ...flags], timeoutMs });
  return { plugin: createVendorPlugin(adapter, { clock, logger: log, minRefreshMs: 1_000 }), clock, log };
}

describe('VendorPlugin', () => {
  describe('xbutil adapter', () => {
    describe('#discover', () => {
      it('lists the cards of a recorded xbutil examine JSON document', async () => {
        const { plugin } = xbutilPlugin(['--json', examineJson]);
        const cards = await plugin.discover();
        assert.deepEqual(cards.map((c) => c.id), [u250, u55c]);
        const card = cards[0];
        assert.equal(card?.kind, 'fpga');
        assert.equal(card?.model, 'xilinx_u250_gen3x16_xdma_shell_4_1');
        assert.equal(card?.memoryBytes, 64 * GiB);
        assert.deepEqual(card?.capabilities, ['xrt', 'xilinx_u250_gen3x16_xdma_shell_4_1']);
        assert.equal(card?.labels['part'], 'xcu250-figd2104-2L-e');
        assert.equal(card?.labels['xrt'], '2.16.204');
        assert.match(card?.unavailable['utilization'] ?? '', /no busy fraction/);
        assert.ok(cards[1]?.unavailable['memoryTotalBytes']);
        assert.deepEqual(plugin.status(), { available: true });
        await plugin.close();
      });

      it('turns a failing command into [] plus a logged DeviceCommandError', async () => {
        const { plugin, log } = xbutilPlugin(['--fail']);
        assert.deepEqual(await plugin.discover(), []);
        const err = (log.at('warn')[0]?.obj as { err?: unknown }).err;
        assert.ok(err instanceof DeviceCommandError);
        assert.equal(err.failure, 'exit');
        assert.equal(err.exitCode, 1);
        assert.equal(err.output, 'ERROR: No devices found');
        assert.equal(plugin.status().available, false);
        await plugin.close();
      });
    });

    describe('#sample', () => {
      it('reads the metrics XRT reports and null for those it does not', async () => {
        const { plugin } = xbutilPlugin(['--json', examineJson]);
        await plugin.discover();
        const a = await plugin.sample(u250);
        assert.deepEqual(a.metrics, {
          utilization: null,
          memoryUsedBytes: 0x48000000,
          memoryTotalBytes: 64 * GiB,
          powerW: 68.412,
          temperatureC: 57,
          powerMaxW: 225,
          fanRpm: 4120,
        });
        assert.equal(a.errors, undefined);
        const b = await plugin.sample(u55c);
        assert.equal(b.metrics.powerW, null, '"N/A" is null, not 0');
        assert.equal(b.metrics['fanRpm'], null);
        assert.equal(b.metrics.memoryTotalBytes, null);
        assert.equal(b.metrics.temperatureC, 48);
        await plugin.close();
      });

      it('serves the latest reading and runs the command at most once per minRefreshMs', async () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'godwit-xbutil-'));
        const count = path.join(dir, 'runs');
        const runs = (): number => readFileSync(count, 'utf8').split('\n').filter(Boolean).length;
        try {
          const { plugin, clock } = xbutilPlugin(['--json', examineJson, '--count', count]);
          await plugin.discover();
          const first = await plugin.sample(u250);
          for (let i = 0; i < 5; i++) assert.equal((await plugin.sample(u250)).timeMs, first.timeMs);
          assert.equal(runs(), 2, 'discover + one refresh');
          clock.advance(1_000);
          const refreshed = nextPluginEvent(plugin, 'sample');
          const cached = await plugin.sample(u250);
          assert.equal(cached.timeMs, first.timeMs, 'answers at once from the reading it has');
          assert.equal((await refreshed).sample.timeMs, 1_000);
          assert.equal(runs(), 3);
          await plugin.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

      it('reports output that is not JSON as a DeviceSourceError and every metric unavailable', async () => {
        const { plugin, log } = xbutilPlugin(['--text']);
        const s = await plugin.sample(u250);
        assert.equal(s.metrics.temperatureC, null);
        assert.match(s.errors?.[0] ?? '', /is unusable: not JSON/);
        const err = (log.at('warn')[0]?.obj as { err?: unknown }).err;
        assert.ok(err instanceof DeviceSourceError);
        assert.equal(err.code, 'GODWIT_ERR_DEVICE_SOURCE');
        assert.equal(plugin.status().available, false);
        await plugin.close();
      });

      it('kills a command that runs past its limit on the injected clock', async () => {
        const { plugin, clock } = xbutilPlugin(['--hang'], 500);
        const error = nextPluginEvent(plugin, 'error');
        const sampled = plugin.sample(u250);
        clock.advance(500);
        const s = await sampled;
        assert.match(s.errors?.[0] ?? '', /ran past its limit of 500 ms/);
        const err = (await error).error;
        assert.ok(err instanceof DeviceCommandError);
        assert.equal(err.failure, 'timeout');
        await plugin.close();
      });

      it('close stops a command in flight', async () => {
        const { plugin } = xbutilPlugin(['--hang']);
        const sampled = plugin.sample(u250);
        await plugin.close();
        assert.deepEqual((await sampled).errors, ['plugin closed']);
      });
    });

    describe('parseXbutilExamine', () => {
      it('rejects a document without a devices array', () => {
        assert.throws(() => parseXbutilExamine('{"system":{}}', 'x'), { code: 'GODWIT_ERR_DEVICE_SOURCE', reason: 'no "devices" array in the document' });
      });
    });
  });

  describe('hwmon adapter', () => {
    const sysRoot = fixture('asic-sys');

    it('takes every hwmon chip of the named driver as a device and reads the hwmon files', async () => {
      const adapter = createHwmonAdapter({
        kind: 'asic',
        match: 'habanalabs',
        sysRoot,
        deviceFiles: { utilizationPercent: 'device/busy_percent', memoryUsedBytes: 'device/mem_used_bytes', memoryTotalBytes: 'device/mem_total_bytes' },
        capabilities: ['bf16', 'fp8'],
      });
      const plugin = createVendorPlugin(adapter, { clock: createManualClock(), logger: recordingLogger() });
      const devices = await plugin.discover();
      assert.deepEqual(devices.map((d) => [d.id, d.kind, d.model, d.labels['hwmon']]), [
        ['asic-0', 'asic', 'HL-225', 'hwmon3'],
        ['asic-1', 'asic', 'HL-225', 'hwmon4'],
      ]);
      assert.equal(devices[0]?.memoryBytes, 96 * GiB);
      assert.deepEqual(devices[0]?.capabilities, ['bf16', 'fp8']);
      const a = await plugin.sample('asic-0');
      assert.deepEqual(a.metrics, {
        utilization: 0.73,
        memoryUsedBytes: 61203283968,
        memoryTotalBytes: 96 * GiB,
        powerW: 187.25,
        temperatureC: 66,
        fanRpm: 2950,
      });
      const b = await plugin.sample('asic-1');
      assert.equal(b.metrics.temperatureC, 43, 'the unreadable HBM sensor is left out');
      assert.match(b.errors?.[0] ?? '', /temp3_input .*is a directory/);
      await plugin.close();
    });

    it('lists metrics hwmon has no file for as unavailable', async () => {
      const plugin = createVendorPlugin(createHwmonAdapter({ kind: 'asic', match: /^habana/, sysRoot }), { clock: createManualClock(), logger: recordingLogger() });
      const [d] = await plugin.discover();
      assert.match(d?.unavailable['utilization'] ?? '', /no utilization file/);
      const s = await plugin.sample('asic-0');
      assert.equal(s.metrics.utilization, null);
      assert.equal(s.metrics.memoryUsedBytes, null);
      assert.equal(s.metrics.powerW, 187.25);
      await plugin.close();
    });

    it('finds nothing on a host without the driver', async () => {
      const plugin = createVendorPlugin(createHwmonAdapter({ kind: 'asic', match: 'habanalabs', sysRoot: fixture('cpu-host', 'sys') }), {
        clock: createManualClock(),
        logger: recordingLogger(),
      });
      assert.deepEqual(await plugin.discover(), []);
      assert.match(plugin.status().reason ?? '', /found no device/);
      await plugin.close();
    });
  });
});

describe('syncSampler', () => {
  describe('#call', () => {
    it('gives a sampling loop the latest answer of an async plugin', async () => {
      const { plugin } = xbutilPlugin(['--json', examineJson]);
      const sampler = syncSampler(plugin, u250);
      const first = sampler(0);
      assert.equal(first.metrics.powerW, null);
      assert.deepEqual(first.errors, ['no reading from plugin xbutil yet']);
      await nextPluginEvent(plugin, 'sample');
      await new Promise((resolve) => setImmediate(resolve)); // the plugin's promise settles after its event
      assert.equal(sampler(0).metrics.powerW, 68.412);
      await plugin.close();
    });
  });
});
