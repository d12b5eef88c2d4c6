// A resource fails: its tasks are re-placed from their last snapshots on resources their affinity allows.
import { createRuntime, defineTask, simulatedDevice } from 'godwit';

const tally = defineTask<number, 'hit' | 'count', number>({
  name: 'tally',
  affinity: { require: { kinds: ['gpu', 'fpga'] } },
  init: () => 0,
  receive(n, msg, ctx) {
    if (msg === 'count') ctx.reply(n);
    return msg === 'hit' ? n + 1 : n;
  },
});

const runtime = createRuntime({
  devices: [simulatedDevice({ kind: 'cpu', id: 'cpu-0' }), simulatedDevice({ kind: 'gpu', id: 'gpu-0' }), simulatedDevice({ kind: 'fpga', id: 'fpga-0' })],
  logger: { level: 'silent' },
  snapshotIntervalMs: 0.001, // snapshot after every turn, for the example
});
runtime.observe((e) => {
  if (e.type === 'task.replaced') console.log(`re-placed ${e.taskId}: ${e.from} -> ${e.to}`);
}, ['task.replaced']);

const ref = runtime.spawn(tally, { id: 'hits', affinity: { prefer: [{ kind: 'gpu' }] } });
for (let i = 0; i < 3; i++) runtime.send(ref, 'hit');
console.log('count', await runtime.ask(ref, 'count')); //=> count 3
runtime.failResource('gpu-0'); //=> re-placed hits: gpu-0 -> fpga-0
console.log('count after failure', await runtime.ask(ref, 'count')); //=> count after failure 3
await runtime.shutdown();
