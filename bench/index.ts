/** The benchmarks `godwit bench NAME` knows, loaded on demand. */
import type { Bench } from './report.js';

export const benches: Record<string, () => Promise<Bench>> = {
  messaging: async () => (await import('./messaging.bench.js')).bench,
  codecs: async () => (await import('./codecs.bench.js')).bench,
  transport: async () => (await import('./transport.bench.js')).bench,
  monitoring: async () => (await import('./monitoring.bench.js')).bench,
  migration: async () => (await import('./migration.bench.js')).bench,
  controller: async () => (await import('./controller.bench.js')).bench,
  predictor: async () => (await import('./predictor.bench.js')).bench,
};
