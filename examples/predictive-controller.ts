// The migration controller moves a task off a resource whose load is forecast to pass its safe
// level, before it does. A manual clock drives the monitors, predictors and controller.
import { createManualClock, createRuntime, defineTask, simulatedDevice } from 'godwit';

const svc = defineTask<number, 'hit', number>({ name: 'svc', init: () => 0, receive: (n) => n + 1 });

const clock = createManualClock();
const runtime = createRuntime({
  clock,
  logger: { level: 'silent' },
  devices: [simulatedDevice({ kind: 'cpu', id: 'cpu-a' }), simulatedDevice({ kind: 'cpu', id: 'cpu-b' })],
  monitor: { intervalMs: 1000 },
  controller: { mode: 'auto', horizonMs: 15_000 },
});
// cpu-a's load climbs 1.5 points a second from 30 %: it passes 90 % at 40 s. cpu-b stays at 20 %.
runtime.monitorWith('cpu-a', (now) => ({ utilization: 0.3 + 0.015 * (now / 1000) }));
runtime.monitorWith('cpu-b', () => ({ utilization: 0.2 }));
runtime.observe((e) => {
  if (e.type !== 'controller.decision' || e.decision.action !== 'move') return;
  const d = e.decision;
  const when = d.atMs < 40_000 ? 'before the overload' : 'after the overload began';
  console.log(`${d.task}: ${d.resource} -> ${d.to} (${d.reason}), ${when}, cost ${d.terms!.total < 0 ? 'below' : 'above'} the threshold`);
}, ['controller.decision']);

runtime.spawn(svc, { id: 'svc' });
await runtime.ready;
console.log('svc runs on', runtime.tasks()[0]!.resource); //=> svc runs on cpu-a
for (let s = 0; s < 45; s++) {
  clock.advance(1000);
  for (let i = 0; i < 8; i++) await new Promise((resolve) => setImmediate(resolve));
}
//=> svc: cpu-a -> cpu-b (predicted-overload), before the overload, cost below the threshold
console.log('svc runs on', runtime.tasks()[0]!.resource); //=> svc runs on cpu-b
await runtime.shutdown();
