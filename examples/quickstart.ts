// The README's example: a stateful task on simulated resources, messages, a crash and a restart.
import { createRuntime, defineTask, simulatedDevice } from 'godwit';

type Msg = { type: 'add'; amount: number } | { type: 'total' } | { type: 'fail' };

const account = defineTask<{ total: number }, Msg, number>({
  name: 'account',
  init: () => ({ total: 0 }),
  receive(state, msg, ctx) {
    if (msg.type === 'fail') throw new Error('bad input');
    if (msg.type === 'total') ctx.reply(state.total);
    return msg.type === 'add' ? { total: state.total + msg.amount } : state;
  },
});

const runtime = createRuntime({ devices: [simulatedDevice({ kind: 'cpu' }), simulatedDevice({ kind: 'gpu' })], logger: { level: 'silent' } });
const ref = runtime.spawn(account, { id: 'alice', affinity: { prefer: [{ kind: 'gpu' }] } });
runtime.send(ref, { type: 'add', amount: 5 });
runtime.send(ref, { type: 'add', amount: 7 });
console.log('total', await runtime.ask(ref, { type: 'total' })); //=> total 12
runtime.send(ref, { type: 'fail' }); // crashes: supervision restarts it from init
console.log('after restart', await runtime.ask(ref, { type: 'total' })); //=> after restart 0
console.log('placed on', runtime.tasks()[0]?.kind); //=> placed on gpu
await runtime.shutdown();
