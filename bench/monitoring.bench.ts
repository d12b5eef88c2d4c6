/**
 * What monitoring costs: 16 simulated resources (two idle tasks each) sampled every 10 ms, beside
 * the same runtime with monitors off, in the same process; CPU time over wall time, as a share
 * of one core. Rounds alternate the two; medians.
 */
import { createRuntime, defineTask, simulatedDevice } from '../src/index.js';
import { type Bench, benchResult, median } from './report.js';

const idle = defineTask({ name: 'idle', init: () => 0, receive: (n: number) => n + 1 });

type Mode = 'off' | 'bare-timer' | 'monitored';

/** CPU time over wall time (% of one core) of a 16-resource runtime with monitors off, on, or off plus a bare 10 ms timer. */
async function cpuShare(mode: Mode, seconds: number): Promise<number> {
  const rt = createRuntime({
    logger: { level: 'silent' },
    devices: Array.from({ length: 16 }, (_, i) => simulatedDevice({ kind: (['cpu', 'gpu', 'fpga', 'asic'] as const)[i % 4]!, id: `r${i}` })),
    monitor: mode === 'monitored' ? { intervalMs: 10, flushIntervalMs: 100 } : false,
  });
  for (let i = 0; i < 32; i++) rt.spawn(idle, { affinity: { require: { resources: [`r${i % 16}`] } } });
  let timer: NodeJS.Timeout | undefined;
  if (mode === 'bare-timer') {
    const tick = () => void (timer = setTimeout(tick, 10));
    tick();
  }
  await new Promise((resolve) => setTimeout(resolve, 100)); // let spawning settle
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  clearTimeout(timer);
  await rt.shutdown();
  return ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
}

export const bench: Bench = {
  name: 'monitoring',
  description: 'CPU share of one core: 16 resources sampled every 10 ms vs monitors off',
  async run({ quick }) {
    const seconds = quick ? 0.3 : 3;
    const rounds = quick ? 1 : 3;
    const on: number[] = [];
    const off: number[] = [];
    const bare: number[] = [];
    await cpuShare('monitored', quick ? 0.1 : 1); // warm-up: compile the sampling path before measuring it
    for (let r = 0; r < rounds; r++) {
      off.push(await cpuShare('off', seconds));
      bare.push(await cpuShare('bare-timer', seconds));
      on.push(await cpuShare('monitored', seconds));
    }
    const overhead = Math.max(0, median(on) - median(off));
    return [
      benchResult({ case: '16 resources @ 10 ms', metric: 'cpu share', value: median(on), unit: '% of a core', baseline: 'monitors off', baselineValue: median(off), better: 'lower' }),
      // Any sampler at 10 ms pays for 100 timer wake-ups a second: this is that floor.
      benchResult({ case: '16 resources @ 10 ms', metric: 'cpu share', value: median(on), unit: '% of a core', baseline: 'bare 10 ms timer', baselineValue: median(bare), better: 'lower' }),
      benchResult({ case: '16 resources @ 10 ms', metric: 'monitor overhead', value: overhead, unit: '% of a core', baseline: 'target 2 %', baselineValue: 2, better: 'lower' }),
    ];
  },
};
