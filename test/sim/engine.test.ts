import assert from 'node:assert/strict';
import { runSimulation } from '../../src/sim/engine.js';
import { createDvfsPolicy, createNpaPolicy, createBaselinePolicy } from '../../src/sim/policies/baselines.js';
import { host, scripted, setupOf } from './helpers.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${a} != ${b}`);

describe('runSimulation', () => {
  describe('energy', () => {
    it('is the trapezoid of power over each interval for an active host', () => {
      // One VM of 1000 MIPS on a 2 x 1000 MIPS host: load 0.1 -> 0.3 -> 0.3, P = 100 + 100 u.
      const setup = setupOf([host('a'), host('b')], [{ mips: 1000, ramMb: 512, demand: [0.2, 0.6, 0.6] }], 2);
      const r = runSimulation(setup, { ...createDvfsPolicy(), initialPlacement: () => Int32Array.from([0]) });
      close(r.energyKWh, ((110 + 130) / 2 * 300 + 130 * 300) / 3.6e6);
      assert.deepEqual(Array.from(r.activeHosts), [1, 1]);
    });

    it('charges nothing for a host that starts a frame with zero load', () => {
      const setup = setupOf([host('a')], [{ mips: 1000, ramMb: 512, demand: [0, 0.4, 0.4] }], 2);
      const r = runSimulation(setup, createDvfsPolicy());
      close(r.energyKWh, (120 * 300) / 3.6e6);
    });

    it('NPA charges every host at maximum power all day, whatever the load', () => {
      const setup = setupOf([host('a'), host('b')], [{ mips: 1000, ramMb: 512, demand: [0.3] }, { mips: 500, ramMb: 512, demand: [0.1] }], 4);
      const r = runSimulation(setup, createNpaPolicy());
      close(r.energyKWh, (2 * 200 * 4 * 300) / 3.6e6);
      assert.equal(r.migrations, 0);
    });
  });

  describe('SLATAH', () => {
    it('counts the active time of a host whose VMs get less than they ask for', () => {
      // Three 1000 MIPS VMs at 0.8 on one 2000 MIPS host (2400 asked) in interval 0, at 0.5 (1500) in interval 1.
      const vm = { mips: 1000, ramMb: 512, demand: [0.8, 0.5] };
      const setup = setupOf([host('a'), host('b')], [vm, vm, vm], 2);
      const r = runSimulation(setup, { ...createDvfsPolicy(), initialPlacement: () => Int32Array.from([0, 0, 0]) });
      close(r.slatah, 0.5);
      close(r.slatahMean, 0.5);
      assert.equal(r.pdm, 0);
      assert.equal(r.slav, 0);
    });
  });

  describe('migration', () => {
    it('takes RAM / 62.5 s, costs the VM 10 % meanwhile (PDM) and counts on both hosts', () => {
      // 625 MB -> 10 s. VM asks 500 MIPS all the time; it moves from host 0 to host 1 at t = 300 s.
      const setup = setupOf([host('a'), host('b')], [{ mips: 1000, ramMb: 625, demand: [0.5] }], 2);
      const r = runSimulation(setup, scripted([0], { 1: [{ vm: 0, target: 1 }] }));
      assert.equal(r.migrations, 1);
      close(r.pdm, (0.1 * 500 * 10) / (500 * 600));
      // Active: host 0 300 s + 10 s (violating), host 1 10 s (reserving 10 %) + 290 s.
      close(r.slatah, 10 / 610);
      // Energy: host 0 at 0.25 for 300 s, at 0.225 for 10 s (then 0); host 1 at 0.025 for 10 s, 0.25 for 290 s.
      const p = (u: number) => 100 + 100 * u;
      const e0 = p(0.25) * 300 + ((p(0.225) + p(0.225)) / 2) * 10;
      const e1 = ((p(0.025) + p(0.025)) / 2) * 10 + p(0.25) * 290;
      close(r.energyKWh, (e0 + e1) / 3.6e6);
    });

    it('refuses a migration of a VM to the host it is on', () => {
      const setup = setupOf([host('a'), host('b')], [{ mips: 1000, ramMb: 625, demand: [0.5] }], 2);
      const r = runSimulation(setup, scripted([0], { 1: [{ vm: 0, target: 0 }] }));
      assert.equal(r.migrations, 0);
      assert.equal(r.rejectedMigrations, 1);
    });
  });

  describe('policies', () => {
    it('THR-MMT moves the smallest-RAM VM off an overloaded host', () => {
      const setup = setupOf(
        [host('a'), host('b')],
        [
          { mips: 1000, ramMb: 1740, demand: [0.3, 0.6] },
          { mips: 1000, ramMb: 613, demand: [0.3, 0.6] },
          { mips: 1000, ramMb: 870, demand: [0.3, 0.6] },
        ],
        2,
      );
      const thr = createBaselinePolicy('thr-mmt-0.8');
      const moves: number[][] = [];
      const r = runSimulation(setup, {
        ...thr,
        initialPlacement: () => Int32Array.from([0, 0, 0]),
        decide: (view, now) => {
          const m = thr.decide(view, now);
          moves.push(m.map((x) => x.vm));
          return m;
        },
      });
      // At step 1 the host asks 1800 / 2000 = 0.9 > 0.8: one VM off (0.6) is enough; MMT picks the 613 MB one.
      assert.deepEqual(moves[0], [1]);
      assert.equal(r.migrations, 1);
    });

    it('DVFS never migrates', () => {
      const vm = { mips: 1000, ramMb: 512, demand: [0.1, 0.9, 0.2, 0.95] };
      const r = runSimulation(setupOf([host('a'), host('b'), host('c')], [vm, vm, vm, vm], 3), createDvfsPolicy());
      assert.equal(r.migrations, 0);
    });
  });
});
