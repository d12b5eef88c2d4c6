// Two nodes in one process (they could be two machines): a task placed on the other node, moved
// back with live migration, and still counting. In production: `godwit server` and `godwit agent`.
import { createRuntime, defineTask, simulatedDevice } from 'godwit';

const tally = defineTask<number, 'hit' | 'count', number>({
  name: 'tally',
  init: () => 0,
  receive(n, msg, ctx) {
    if (msg === 'count') ctx.reply(n);
    return msg === 'hit' ? n + 1 : n;
  },
});

const secret = 'change-me-to-a-long-random-secret';
const quiet = { logger: { level: 'silent' as const }, monitor: false as const };
const rms = createRuntime({ ...quiet, name: 'rms', rms: true, auth: { secret }, tasks: [tally], devices: [simulatedDevice({ kind: 'cpu', id: 'rms/cpu-0' })] });
await rms.ready;
const agent = createRuntime({ ...quiet, name: 'agent', join: rms.url!, auth: { secret }, tasks: [tally], devices: [simulatedDevice({ kind: 'gpu', id: 'agent/gpu-0' })] });
await agent.ready;
await new Promise<void>((resolve) => (rms.nodes().length === 2 ? resolve() : rms.observe(() => rms.nodes().length === 2 && resolve(), ['node.joined'])));

const ref = rms.spawn(tally, { id: 'hits', affinity: { require: { kinds: ['gpu'] } } }); // only the agent has a GPU
for (let i = 0; i < 3; i++) rms.send(ref, 'hit');
console.log('count on the agent', await rms.ask(ref, 'count')); //=> count on the agent 3
const report = await rms.migrate(ref, { to: 'rms/cpu-0' }); // the RMS asks the agent to move it
console.log(report.outcome, report.from, '->', report.to); //=> aborted agent/gpu-0 -> rms/cpu-0
const free = rms.spawn(tally, { id: 'free', affinity: { prefer: [{ kind: 'gpu' }] } });
rms.send(free, 'hit');
const moved = await rms.migrate(free, { to: 'rms/cpu-0', mode: 'pre-copy' });
console.log(moved.outcome, moved.from, '->', moved.to); //=> committed agent/gpu-0 -> rms/cpu-0
console.log('count after the move', await rms.ask(free, 'count')); //=> count after the move 1
await agent.shutdown();
await rms.shutdown();
