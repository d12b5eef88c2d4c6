import assert from 'node:assert/strict';
import os from 'node:os';
import { hostCpu, simulatedDevice } from '../../src/index.js';

describe('devices', () => {
  describe('simulatedDevice', () => {
    it('fills per-kind defaults and a speed profile per task', () => {
      const gpu = simulatedDevice({ kind: 'gpu', id: 'g', speed: { matmul: 12, default: 3 } });
      assert.equal(gpu.kind, 'gpu');
      assert.equal(gpu.simulated, true);
      assert.equal(gpu.computeUnits, 32);
      assert.deepEqual(gpu.power, { idleW: 30, peakW: 300 });
      assert.equal(gpu.speedFor('matmul'), 12);
      assert.equal(gpu.speedFor('other'), 3);
    });

    it('rejects nonsense with InvalidArgumentError', () => {
      for (const bad of [
        { kind: 'tpu' },
        { kind: 'gpu', computeUnits: 0 },
        { kind: 'gpu', power: { idleW: 50, peakW: 10 } },
        { kind: 'gpu', speed: { x: -1 } },
      ]) {
        assert.throws(() => simulatedDevice(bad as never), { code: 'GODWIT_ERR_INVALID_ARGUMENT' });
      }
    });
  });

  describe('hostCpu', () => {
    it('describes the real CPU: cores as compute units, RAM as memory', () => {
      const cpu = hostCpu();
      assert.equal(cpu.kind, 'cpu');
      assert.equal(cpu.simulated, false);
      assert.equal(cpu.computeUnits, os.cpus().length);
      assert.equal(cpu.memoryBytes, os.totalmem());
      assert.equal(cpu.labels['host'], os.hostname());
    });
  });
});
