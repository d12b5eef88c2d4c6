/**
 * Synthetic PlanetLab-like days from a seeded PRNG, to show how the simulator's cost grows with
 * the cluster: VMs = hosts x 1052 / 800 (PlanetLab 20110303's ratio), each with a base level
 * (skewed low, like PlanetLab), a daily wave of random phase, AR(1) noise and rare bursts.
 */
import { PLANETLAB_HOSTS, PLANETLAB_STEPS, planetlabSetup, planetlabWorkload } from './planetlab.js';
import type { SimSetup } from './types.js';
import { createPrng } from '../controller/prng.js';


export const VMS_PER_HOST = 1052 / PLANETLAB_HOSTS;

export function syntheticSetup(hosts: number, seed = 1, steps = PLANETLAB_STEPS): SimSetup {
  const rnd = createPrng(seed);
  const vms = Math.round(hosts * VMS_PER_HOST);
  const ids: string[] = [];
  const series: Float64Array[] = [];
  for (let v = 0; v < vms; v++) {
    ids.push(`synthetic-${v}`);
    const base = 5 + 40 * rnd() ** 2;
    const wave = 10 * rnd();
    const phase = 2 * Math.PI * rnd();
    let noise = 0;
    const s = new Float64Array(steps);
    for (let k = 0; k < steps; k++) {
      noise = 0.8 * noise + 6 * (rnd() - 0.5);
      const burst = rnd() < 0.01 ? 40 * rnd() : 0;
      const x = base + wave * Math.sin((2 * Math.PI * k) / steps + phase) + noise + burst;
      s[k] = Math.round(Math.min(Math.max(x, 0), 99));
    }
    series.push(s);
  }
  return planetlabSetup(`synthetic-${hosts}`, planetlabWorkload(`synthetic-${hosts}`, ids, series, steps), hosts);
}
