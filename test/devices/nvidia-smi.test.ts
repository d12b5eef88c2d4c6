import assert from 'node:assert/strict';
import { createManualClock } from '../../src/runtime/clock.js';
import { DeviceCommandError, DeviceSourceError } from '../../src/devices/device-errors.js';
import { createNvidiaSmiPlugin, type NvidiaSmiPluginOptions } from '../../src/devices/nvidia-smi.js';
import { describeThrottleReasons, nvidiaSmiArgs, parseNvidiaSmiLine } from '../../src/devices/nvidia-smi-parser.js';
import { SupervisedProcess } from '../../src/devices/supervised-process.js';
import { fixture, nextPluginEvent, recordPluginEvents, recordingLogger } from './device-test-helpers.js';

const MiB = 1024 * 1024;
const fake = fixture('fake-nvidia-smi.mjs');
const h100 = fixture('nvidia-smi-h100x8.csv');

/** A plugin running the fake nvidia-smi with the given control flags, on a manual clock. */
function fakePlugin(flags: string[], more: Partial<NvidiaSmiPluginOptions> = {}) {
  const clock = createManualClock(1_000);
  const log = recordingLogger();
  const plugin = createNvidiaSmiPlugin({ command: process.execPath, prefixArgs: [fake, ...flags], intervalMs: 5, clock, logger: log, ...more });
  return { plugin, clock, log };
}

describe('parseNvidiaSmiLine', () => {
  it('converts each field to godwit units', () => {
    const line = parseNvidiaSmiLine('7, GPU-a170b338-3926-3059-f28c-105d1fb17c23, NVIDIA H100 80GB HBM3, 100, 72311, 81559, 699.12, 74, 1755, 0x0000000000000004', 'x');
    assert.equal(line.index, 7);
    assert.equal(line.name, 'NVIDIA H100 80GB HBM3');
    assert.deepEqual(line.metrics, {
      utilization: 1,
      memoryUsedBytes: 72311 * MiB,
      memoryTotalBytes: 81559 * MiB,
      powerW: 699.12,
      temperatureC: 74,
      clockSmMHz: 1755,
      throttleReasons: 4,
    });
    assert.deepEqual(describeThrottleReasons(line.metrics['throttleReasons'] ?? 0), ['SW_POWER_CAP']);
    assert.deepEqual(line.badFields, []);
  });

  it('reads bracketed states as null and names garbage fields', () => {
    const line = parseNvidiaSmiLine('1, GPU-1, NVIDIA A100-SXM4-40GB, [N/A], 8741, 40960, ERR!, 44, 1410, [Not Supported]', 'x');
    assert.equal(line.metrics['utilization'], null);
    assert.equal(line.metrics['throttleReasons'], null);
    assert.equal('powerW' in line.metrics, false);
    assert.deepEqual(line.badFields, ['power.draw']);
  });

  it('throws a DeviceSourceError for a line that is not a GPU line', () => {
    assert.throws(() => parseNvidiaSmiLine("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", 'nvidia-smi stdout', 3), (err: unknown) => {
      assert.ok(err instanceof DeviceSourceError);
      assert.equal(err.code, 'GODWIT_ERR_DEVICE_SOURCE');
      assert.equal(err.line, 3);
      return true;
    });
  });

  it('builds the streaming query', () => {
    assert.deepEqual(nvidiaSmiArgs(250).slice(1), ['--format=csv,noheader,nounits', '-lms', '250']);
    assert.match(nvidiaSmiArgs()[0] ?? '', /^--query-gpu=index,uuid,name,utilization.gpu,.*clocks_throttle_reasons.active$/);
  });
});

describe('NvidiaSmiPlugin', () => {
  describe('#discover', () => {
    it('lists every GPU of a recorded 8-GPU H100 box', async () => {
      const { plugin } = fakePlugin(['--recording', h100]);
      const gpus = await plugin.discover();
      assert.deepEqual(gpus.map((g) => g.id), ['gpu-0', 'gpu-1', 'gpu-2', 'gpu-3', 'gpu-4', 'gpu-5', 'gpu-6', 'gpu-7']);
      const g7 = gpus[7];
      assert.equal(g7?.kind, 'gpu');
      assert.equal(g7?.model, 'NVIDIA H100 80GB HBM3');
      assert.equal(g7?.memoryBytes, 81559 * MiB);
      assert.equal(g7?.labels['uuid'], 'GPU-a170b338-3926-3059-f28c-105d1fb17c23');
      assert.deepEqual(g7?.unavailable, {});
      assert.ok(g7?.metrics.includes('clockSmMHz'));
      assert.deepEqual(plugin.status(), { available: true });
      await plugin.close();
      assert.equal(plugin.status().available, false);
    });

    it('maps [N/A] and [Not Supported] to null and lists them as unavailable', async () => {
      const { plugin } = fakePlugin(['--recording', fixture('nvidia-smi-a100-mig.csv')]);
      const [, mig] = await plugin.discover();
      assert.match(mig?.unavailable['utilization'] ?? '', /not available/);
      assert.match(mig?.unavailable['throttleReasons'] ?? '', /not available/);
      const s = plugin.sample('gpu-1');
      assert.equal(s.metrics.utilization, null);
      assert.equal(s.metrics.memoryUsedBytes, 8741 * MiB);
      await plugin.close();
    });

    it('returns [] and reports unavailable when nvidia-smi is missing, without retrying', async () => {
      const clock = createManualClock();
      const log = recordingLogger();
      const plugin = createNvidiaSmiPlugin({ command: '/nonexistent/bin/nvidia-smi', clock, logger: log });
      assert.deepEqual(await plugin.discover(), []);
      assert.equal(plugin.status().available, false);
      assert.match(plugin.status().reason ?? '', /was not found/);
      assert.equal(clock.pending(), 0, 'no restart scheduled');
      assert.equal(log.at('warn').length, 0, 'a host without GPUs is not a warning');
      const s = plugin.sample('gpu-0');
      assert.equal(s.metrics.utilization, null);
      assert.match(s.errors?.[0] ?? '', /nvidia-smi unavailable/);
      await plugin.close();
    });

    it("reports nvidia-smi's driver error as a typed DeviceCommandError", async () => {
      const { plugin, log, clock } = fakePlugin(['--fail', fixture('nvidia-smi-driver-error.txt')]);
      assert.deepEqual(await plugin.discover(), []);
      const err = (log.at('warn')[0]?.obj as { err?: unknown } | undefined)?.err;
      assert.ok(err instanceof DeviceCommandError);
      assert.equal(err.code, 'GODWIT_ERR_DEVICE_COMMAND');
      assert.equal(err.failure, 'exit');
      assert.equal(err.exitCode, 9);
      assert.match(err.output, /couldn't communicate with the NVIDIA driver/);
      assert.match(plugin.status().reason ?? '', /exited with status 9/);
      assert.equal(clock.pending(), 0);
      await plugin.close();
    });

    it('kills a discovery that hangs once the injected clock passes the limit', async () => {
      const { plugin, clock, log } = fakePlugin(['--hang'], { discoverTimeoutMs: 2_000 });
      const found = plugin.discover();
      clock.advance(2_000);
      assert.deepEqual(await found, []);
      const err = (log.at('warn')[0]?.obj as { err?: unknown } | undefined)?.err;
      assert.ok(err instanceof DeviceCommandError);
      assert.equal(err.failure, 'timeout');
      assert.equal(err.timeoutMs, 2_000);
      await plugin.close();
    });
  });

  describe('#sample', () => {
    it('keeps the latest streamed values of each GPU', async () => {
      const { plugin, clock } = fakePlugin(['--recording', h100, '--ticks', '2']);
      const exited = nextPluginEvent(plugin, 'process-exited');
      await plugin.discover();
      assert.equal((await exited).restartInMs, 1000);
      // The stream printed ticks 1 and 2; tick 2 of GPU 7 is the last one.
      const s = plugin.sample('gpu-7');
      assert.equal(s.timeMs, clock.now());
      assert.deepEqual(s.metrics, {
        utilization: 1,
        memoryUsedBytes: 72313 * MiB,
        memoryTotalBytes: 81559 * MiB,
        powerW: 698.32,
        temperatureC: 75,
        clockSmMHz: 1740,
        throttleReasons: 4,
      });
      assert.deepEqual(s.errors, ['nvidia-smi stream is not running; values are the last it printed']);
      assert.equal(plugin.sample('gpu-6').metrics['throttleReasons'], 1);
      await plugin.close();
    });

    it('follows a real H100 from idle to a bf16 matmul load (nvidia-smi 580.159.04, recorded at 200 ms)', async () => {
      // 25 ticks read off a real H100 80GB HBM3 on 2026-11-24 (test/fixtures/devices/nvidia-smi-h100-real-load.csv):
      // idle at 75 W / 34 C, then a torch bf16 8192^2 matmul loop.
      const { plugin } = fakePlugin(['--recording', fixture('nvidia-smi-h100-real-load.csv'), '--ticks', '25']);
      const exited = nextPluginEvent(plugin, 'process-exited');
      const found = await plugin.discover();
      assert.deepEqual(found.map((d) => [d.id, d.kind, d.model]), [['gpu-0', 'gpu', 'NVIDIA H100 80GB HBM3']]);
      await exited;
      const s = plugin.sample('gpu-0');
      assert.deepEqual(s.metrics, {
        utilization: 1,
        memoryUsedBytes: 1139 * MiB,
        memoryTotalBytes: 81559 * MiB,
        powerW: 698.55,
        temperatureC: 51,
        clockSmMHz: 1440,
        throttleReasons: 4,
      });
      assert.deepEqual(describeThrottleReasons(s.metrics['throttleReasons'] ?? 0), ['SW_POWER_CAP'], 'held at its power cap under load');
      await plugin.close();
    });

    it('reads values older than staleAfterMs as null', async () => {
      const { plugin, clock } = fakePlugin(['--recording', h100, '--ticks', '1'], { staleAfterMs: 3_000 });
      const exited = nextPluginEvent(plugin, 'process-exited');
      await plugin.discover();
      await exited;
      clock.advance(3_001);
      const s = plugin.sample('gpu-0');
      assert.equal(s.metrics.powerW, null);
      assert.match(s.errors?.[0] ?? '', /no data from nvidia-smi for 3001 ms/);
      await plugin.close();
    });

    it('restarts the stream with exponential backoff on the injected clock, reset after a stable run', async () => {
      const { plugin, clock, log } = fakePlugin(['--recording', h100, '--ticks', '1', '--exit-code', '1'], {
        restart: { initialMs: 1_000, factor: 2, maxMs: 3_000, stableAfterMs: 10_000 },
      });
      const events = recordPluginEvents(plugin);
      let exited = nextPluginEvent(plugin, 'process-exited');
      await plugin.discover();
      assert.equal((await exited).restartInMs, 1_000);
      assert.equal(clock.nextDueAt(), clock.now() + 1_000);
      const started = () => events.filter((e) => e.type === 'process-started').length;
      assert.equal(started(), 1);
      clock.advance(999);
      assert.equal(started(), 1);
      exited = nextPluginEvent(plugin, 'process-exited');
      clock.advance(1);
      assert.equal(started(), 2, 'restarted when the backoff elapsed');
      assert.equal((await exited).restartInMs, 2_000);
      exited = nextPluginEvent(plugin, 'process-exited');
      clock.advance(2_000);
      assert.equal((await exited).restartInMs, 3_000, 'capped at maxMs');
      // A run that lasts stableAfterMs resets the backoff.
      const firstLine = nextPluginEvent(plugin, 'sample');
      exited = nextPluginEvent(plugin, 'process-exited');
      clock.advance(3_000);
      await firstLine;
      clock.advance(10_000);
      assert.equal((await exited).restartInMs, 1_000);
      const warns = log.at('warn').filter((e) => e.msg === 'nvidia-smi stream ended; restarting');
      assert.equal(warns.length, 4);
      const err = (warns[0]?.obj as { err?: unknown }).err;
      assert.ok(err instanceof DeviceCommandError);
      assert.equal(err.exitCode, 1);
      await plugin.close();
      assert.equal(clock.pending(), 0, 'close cancels the pending restart');
    });

    it('logs unparseable lines once, emits each, and keeps the other values flowing', async () => {
      const { plugin, log } = fakePlugin(['--recording', h100, '--garbage-every', '4']);
      await plugin.discover();
      const errors: unknown[] = [];
      await new Promise<void>((resolve) => {
        plugin.subscribe((e) => {
          if (e.type === 'error') errors.push(e.error);
          if (errors.length === 5) resolve();
        });
      });
      const lineWarnings = log.at('warn').filter((e) => (e.obj as { err?: unknown }).err instanceof DeviceSourceError);
      assert.equal(lineWarnings.length, 1, 'logged once');
      assert.match(String(lineWarnings[0]?.msg), /Unable to determine the device handle|expected 10 comma-separated fields/);
      assert.equal(plugin.sample('gpu-3').errors, undefined);
      assert.equal(typeof plugin.sample('gpu-3').metrics.powerW, 'number');
      await plugin.close();
    });

    it('keeps the last value of a field that does not parse', async () => {
      const { plugin, log } = fakePlugin(['--recording', fixture('nvidia-smi-bad-field.csv'), '--ticks', '2']);
      const exited = nextPluginEvent(plugin, 'process-exited');
      await plugin.discover();
      await exited;
      const s = plugin.sample('gpu-0');
      assert.equal(s.metrics.powerW, 605.77, 'tick 1 power kept');
      assert.equal(s.metrics.temperatureC, 62, 'tick 2 temperature');
      const err = (log.at('warn')[0]?.obj as { err?: unknown }).err;
      assert.ok(err instanceof DeviceSourceError);
      assert.equal(err.metric, 'power.draw');
      await plugin.close();
    });

    it('treats a driver error in the stream as unparseable output and a restart', async () => {
      const { plugin } = fakePlugin(['--recording', h100, '--stream-fail', fixture('nvidia-smi-driver-error.txt')]);
      const parseError = nextPluginEvent(plugin, 'error', (e) => e.error instanceof DeviceSourceError);
      const exited = nextPluginEvent(plugin, 'process-exited');
      await plugin.discover();
      assert.match((await parseError).error.message, /couldn't communicate/);
      const ended = await exited;
      assert.equal(ended.exitCode, 9);
      assert.equal(ended.restartInMs, 1_000);
      await plugin.close();
    });
  });
});

describe('SupervisedProcess', () => {
  describe('#start', () => {
    it('does not restart a command that does not exist', async () => {
      const clock = createManualClock();
      let exited: (v: [unknown, number | null]) => void = () => undefined;
      const exit = new Promise<[unknown, number | null]>((resolve) => (exited = resolve));
      const p = new SupervisedProcess({
        plugin: 'test',
        command: '/nonexistent/bin/tool',
        args: [],
        clock,
        onLine: () => undefined,
        onStarted: () => undefined,
        onExited: (err, restartInMs) => exited([err, restartInMs]),
      });
      p.start();
      const [err, restartInMs] = await exit;
      assert.ok(err instanceof DeviceCommandError);
      assert.equal(err.failure, 'not-found');
      assert.equal(restartInMs, null);
      assert.equal(clock.pending(), 0);
      await p.stop();
    });
  });
});
