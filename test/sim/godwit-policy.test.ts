import assert from 'node:assert/strict';
import { runDay } from '../../src/sim/benchmark.js';
import { createGodwitPolicy } from '../../src/sim/policies/godwit.js';
import { runSimulation } from '../../src/sim/engine.js';
import { syntheticSetup } from '../../src/sim/synthetic.js';

describe('godwit simulator policy (the runtime\'s controller)', () => {
  it('consolidates a synthetic day: far less energy than DVFS, and fewer migrations and a lower SLAV than LR-MMT-1.2', () => {
    const { reports } = runDay(syntheticSetup(40, 1), ['dvfs', 'lr-mmt-1.2', 'godwit']);
    const [dvfs, lr, godwit] = [reports['dvfs']!, reports['lr-mmt-1.2']!, reports['godwit']!];
    assert.ok(godwit.energyKWh < dvfs.energyKWh / 2, `${godwit.energyKWh} vs DVFS ${dvfs.energyKWh} kWh`);
    assert.ok(godwit.migrations < lr.migrations, `${godwit.migrations} vs ${lr.migrations} migrations`);
    assert.ok(godwit.slav < lr.slav, `SLAV ${godwit.slav} vs ${lr.slav}`);
    assert.ok(Number.isFinite(godwit['forecastMase']), 'it reports its forecast error');
  });

  it('is deterministic: the same set-up gives the same run', () => {
    const setup = syntheticSetup(20, 3);
    const a = runSimulation(setup, createGodwitPolicy());
    const b = runSimulation(setup, createGodwitPolicy());
    assert.deepEqual([a.energyKWh, a.migrations, a.slav], [b.energyKWh, b.migrations, b.slav]);
  });
});
