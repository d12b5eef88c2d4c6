/**
 * One-way local messages/s through `runtime.send` to one task, beside the same count through raw
 * nact `dispatch` to one nact actor in the same process. Both senders push in bursts of 1000 and
 * yield to the event loop between bursts, then ask for the count, which arrives after every
 * message (FIFO). Rounds alternate godwit and nact; the median of each is reported.
 */
import { createRuntime, defineTask, hostCpu } from '../src/index.js';
import { rawNact } from '../src/runtime/nact-adapter.js';
import { type Bench, benchResult, median, sendInBursts } from './report.js';

const BURST = 1000;
const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

type Msg = { type: 'inc' } | { type: 'get' };
const INC: Msg = Object.freeze({ type: 'inc' });

const counter = defineTask<number, Msg, number>({
  name: 'bench-counter',
  // nact's mailbox is unbounded: compare like with like.
  mailbox: { capacity: Infinity },
  init: () => 0,
  receive(n, msg, ctx) {
    if (msg.type === 'get') {
      ctx.reply(n);
      return n;
    }
    return n + 1;
  },
});

async function godwitRound(count: number): Promise<number> {
  const rt = createRuntime({ devices: [hostCpu()], logger: { level: 'silent' } });
  const ref = rt.spawn(counter);
  const t0 = performance.now();
  await sendInBursts(count, BURST, () => rt.send(ref, INC));
  const n = await rt.ask<number>(ref, { type: 'get' }, { timeoutMs: 60_000 });
  const seconds = (performance.now() - t0) / 1000;
  await rt.shutdown();
  if (n !== count) throw new Error(`godwit counted ${n} of ${count}`);
  return count / seconds;
}

async function nactRound(count: number): Promise<number> {
  const system = rawNact.start();
  const actor = rawNact.spawn<number, { type: string; sender?: unknown }>(
    system,
    (n, msg) => {
      if (msg.type === 'get') {
        rawNact.dispatch(msg.sender, n);
        return n;
      }
      return n + 1;
    },
    0,
  );
  const t0 = performance.now();
  await sendInBursts(count, BURST, () => rawNact.dispatch(actor, INC));
  const n = await rawNact.query(actor, (sender) => ({ type: 'get', sender }), 60_000);
  const seconds = (performance.now() - t0) / 1000;
  rawNact.stop(system);
  await yieldLoop();
  if (n !== count) throw new Error(`nact counted ${String(n)} of ${count}`);
  return count / seconds;
}

export const bench: Bench = {
  name: 'messaging',
  description: 'one-way local messages/s through runtime.send vs raw nact dispatch',
  async run({ quick }) {
    const count = quick ? 20_000 : 500_000;
    const rounds = quick ? 1 : 5;
    const g: number[] = [];
    const n: number[] = [];
    for (let r = 0; r < rounds; r++) {
      g.push(await godwitRound(count));
      n.push(await nactRound(count));
    }
    return [
      benchResult({
        case: `${count} msgs, 1 task`,
        metric: 'throughput',
        value: median(g),
        unit: 'msgs/s',
        baseline: 'raw nact dispatch',
        baselineValue: median(n),
      }),
    ];
  },
};
