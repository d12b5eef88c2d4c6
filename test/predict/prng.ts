/** A tiny seeded PRNG (mulberry32) and a Gaussian from it, so test series are reproducible. */
export { createPrng as createRandom } from '../../src/controller/prng.js';
import { createPrng as createRandom } from '../../src/controller/prng.js';

export function createGaussian(seed: number): () => number {
  const random = createRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** x[t] = mean + phi * (x[t-1] - mean) + sigma * e[t]. */
export function ar1Series(length: number, phi: number, mean: number, sigma: number, seed: number): number[] {
  const gauss = createGaussian(seed);
  const out: number[] = [];
  let x = mean;
  for (let i = 0; i < length; i++) {
    x = mean + phi * (x - mean) + sigma * gauss();
    out.push(x);
  }
  return out;
}
