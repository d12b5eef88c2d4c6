import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SimCluster } from '../../src/sim/cluster.js';
import { iqr, linearFit, lrDetector, mad, thresholdDetector } from '../../src/sim/detectors.js';
import { runSimulation } from '../../src/sim/engine.js';
import { runDay, medianReports } from '../../src/sim/benchmark.js';
import { loadPlanetLabDay } from '../../src/sim/planetlab.js';
import { SimPlan } from '../../src/sim/plan.js';
import { findHostForVm, pabfd, powerIncrease } from '../../src/sim/placement.js';
import { createPredictiveNaivePolicy } from '../../src/sim/policies/predictive-naive.js';
import { POWER_G4, powerAt } from '../../src/sim/power.js';
import { renderBenchmarkSvg } from '../../src/sim/svg-plot.js';
import { syntheticSetup } from '../../src/sim/synthetic.js';
import { host, setupOf } from './helpers.js';

const PLANETLAB = fileURLToPath(new URL('../../../../shared/data/planetlab/20110303', import.meta.url));

describe('sim helpers', () => {
  it('powerAt interpolates the table between 10 % points', () => {
    assert.equal(powerAt(POWER_G4, 0), 86);
    assert.equal(powerAt(POWER_G4, 1), 117);
    assert.ok(Math.abs(powerAt(POWER_G4, 0.05) - 87.7) < 1e-9);
  });

  it('linearFit, mad and iqr match hand values', () => {
    assert.deepEqual(linearFit([1, 3, 5]), [-1, 2]);
    assert.equal(mad(Float64Array.from([1, 2, 3, 4, 100])), 1);
    assert.equal(iqr(Float64Array.from([1, 2, 3, 4, 5, 6, 7])), 4);
  });

  it('PABFD puts each VM where power rises least and keeps hosts under the threshold', () => {
    const vm = { mips: 1000, ramMb: 512, demand: [0.5] };
    const c = new SimCluster(setupOf([host('a'), host('b')], [vm, vm, vm, vm], 1));
    const plan = new SimPlan(c);
    assert.deepEqual(pabfd(plan, [0, 1, 2, 3], undefined, thresholdDetector(0.8)), []);
    // 500 MIPS on a 2000 MIPS host is 0.25; a third VM would make 0.75, a fourth 1.0 > 0.8.
    assert.ok(Array.from(plan.usedMips).every((m) => m <= 1600));
    assert.equal(powerIncrease(plan, 0, 0), 100 + 100 * ((plan.usedMips[0] ?? 0) + 500) / 2000 - (100 + 100 * (plan.usedMips[0] ?? 0) / 2000));
    assert.equal(findHostForVm(plan, 0, Uint8Array.from([1, 1])), -1);
  });

  it('LR falls back to THR-0.7 with fewer than 10 values of history', () => {
    const vm = { mips: 1000, ramMb: 512, demand: [0.75] };
    const c = new SimCluster(setupOf([host('a', 1000, 1)], [vm], 1));
    c.place(0, 0);
    assert.equal(lrDetector(1.2).overloaded(new SimPlan(c), 0), true);
  });

  it('synthetic days are reproducible from the seed and scale VMs with hosts', () => {
    const a = syntheticSetup(40, 7);
    const b = syntheticSetup(40, 7);
    assert.equal(a.workload.vmIds.length, Math.round((40 * 1052) / 800));
    assert.deepEqual(Array.from(a.workload.demand.slice(0, 50)), Array.from(b.workload.demand.slice(0, 50)));
    assert.notDeepEqual(Array.from(syntheticSetup(40, 8).workload.demand.slice(0, 50)), Array.from(a.workload.demand.slice(0, 50)));
  });

  it('the predictive-naive policy runs and reports its forecast error', () => {
    const r = runSimulation(syntheticSetup(20, 3), createPredictiveNaivePolicy());
    assert.ok(r.energyKWh > 0);
    assert.ok((r.stats.forecastMae ?? Number.NaN) > 0);
    assert.ok((r.stats.forecastMase ?? Number.NaN) > 0);
  });

  it('renders an SVG with a dot per point and a line per policy', () => {
    const svg = renderBenchmarkSvg([{ policy: 'dvfs', energyKWh: 10, slav: 0 }, { policy: 'lr-mmt-1.2', energyKWh: 5, slav: 1e-5, median: true }], [{ policy: 'dvfs', activeHosts: [3, 2, 2] }]);
    assert.match(svg, /^<svg/);
    assert.equal(svg.match(/<circle/g)?.length, 2);
    assert.equal(svg.match(/<polyline/g)?.length, 1);
  });
});

describe('PlanetLab subset (first 100 VMs on 80 hosts of 20110303)', () => {
  it('consolidation saves energy against DVFS and reports per-policy metrics', async function () {
    if (!existsSync(PLANETLAB)) this.skip();
    const setup = await loadPlanetLabDay(PLANETLAB, { maxVms: 100, hosts: 80 });
    assert.equal(setup.workload.vmIds.length, 100);
    const day = runDay(setup, ['npa', 'dvfs', 'thr-mmt-0.8', 'lr-mmt-1.2']);
    const r = day.reports;
    assert.ok((r['npa']?.energyKWh ?? 0) > (r['dvfs']?.energyKWh ?? 0));
    assert.ok((r['lr-mmt-1.2']?.energyKWh ?? Infinity) < (r['dvfs']?.energyKWh ?? 0));
    assert.ok((r['thr-mmt-0.8']?.migrations ?? 0) > 0);
    assert.equal(r['dvfs']?.migrations, 0);
    const median = medianReports([day]);
    assert.equal(median['dvfs']?.energyKWh, r['dvfs']?.energyKWh);
  });
});
