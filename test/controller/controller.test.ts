import assert from 'node:assert/strict';
import { connectDebugSocket, createManualClock, createRuntime, simulatedDevice, type Decision, type Runtime, type RuntimeControllerOptions, type ManualClock } from '../../src/index.js';
import { counter, counterWith } from '../fixtures.js';
import { recordEvents, settle } from '../helpers.js';
import { controllerText } from '../../src/cli/inspect.js';

type Profile = (s: number) => number;

/** Two simulated cpus whose utilization follows scripted profiles (seconds -> 0..1), a manual clock, a controller. */
function scenario(profiles: Record<string, Profile>, controller: RuntimeControllerOptions): { rt: Runtime; clock: ManualClock } {
  const clock = createManualClock();
  const ids = Object.keys(profiles);
  const rt = createRuntime({
    clock,
    logger: { level: 'silent' },
    devices: ids.map((id) => simulatedDevice({ id, kind: 'cpu', computeUnits: 4 })),
    monitor: { intervalMs: 1000, flushIntervalMs: 1000 },
    controller: { intervalMs: 1000, ...controller },
  });
  for (const id of ids) rt.monitorWith(id, (now) => ({ utilization: profiles[id]!(now / 1000) }));
  return { rt, clock };
}

async function run(clock: ManualClock, seconds: number, each?: (s: number) => boolean | void): Promise<void> {
  for (let s = 1; s <= seconds; s++) {
    clock.advance(1000);
    await settle(8);
    if (each?.(s) === true) return;
  }
}

const ramp: Profile = (s) => Math.min(1.4, 0.3 + 0.015 * s); // crosses 0.9 at 40 s
const cool: Profile = () => 0.2;

async function firstMoveSecond(policy: 'predictive' | 'reactive', mode: 'auto' | 'recommend' = 'auto'): Promise<{ at: number | undefined; decisions: Decision[]; where: string | undefined }> {
  const { rt, clock } = scenario({ 'cpu-a': ramp, 'cpu-b': cool }, { mode, policy, horizonMs: 15_000 });
  const ref = rt.spawn(counter, { id: 'svc', affinity: { require: { resources: ['cpu-a', 'cpu-b'] } } });
  await rt.ready;
  assert.equal(rt.tasks()[0]!.resource, 'cpu-a');
  let at: number | undefined;
  await run(clock, 70, (s) => {
    if (rt.controller!.decisions().some((d) => d.action === 'move' && d.task === 'svc')) {
      at = s;
      return true;
    }
  });
  await rt.controller!.settled();
  await settle(8);
  const decisions = rt.controller!.decisions();
  const where = rt.tasks().find((t) => t.ref.id === ref.id)?.resource;
  await rt.shutdown();
  return { at, decisions, where };
}

/** cpu-a heats 1 C a second from 50 C (so it reaches 90 C, its failure threshold, at 40 s); cpu-b stays cool; `svc` starts on cpu-a. */
async function heating(policy: 'predictive' | 'reactive'): Promise<{ rt: Runtime; clock: ManualClock }> {
  const clock = createManualClock();
  const rt = createRuntime({
    clock,
    logger: { level: 'silent' },
    devices: ['cpu-a', 'cpu-b'].map((id) => simulatedDevice({ id, kind: 'cpu', computeUnits: 4 })),
    monitor: { intervalMs: 1000 },
    predictors: { failure: { highC: 90 } },
    controller: { mode: 'auto', policy, horizonMs: 15_000 },
  });
  rt.monitorWith('cpu-a', (now) => ({ utilization: 0.3, temperatureC: 50 + now / 1000 }));
  rt.monitorWith('cpu-b', () => ({ utilization: 0.3, temperatureC: 45 }));
  rt.spawn(counter, { id: 'svc' });
  await rt.ready;
  assert.equal(rt.tasks()[0]!.resource, 'cpu-a');
  return { rt, clock };
}

describe('MigrationController', () => {
  it('moves a task off a predicted hot spot before the overload begins; a reactive policy moves only after', async () => {
    const predictive = await firstMoveSecond('predictive');
    const reactive = await firstMoveSecond('reactive');
    assert.ok(predictive.at !== undefined && predictive.at < 40, `predictive moved at ${predictive.at} s, overload begins at 40 s`);
    assert.ok(reactive.at !== undefined && reactive.at >= 40, `reactive moved at ${reactive.at} s`);
    assert.equal(predictive.where, 'cpu-b');
    const move = predictive.decisions.find((d) => d.action === 'move')!;
    assert.equal(move.reason, 'predicted-overload');
    assert.equal(move.executed, true);
    assert.ok(move.terms!.gain > 0);
  });

  it('recommend mode records the same decision and moves nothing', async () => {
    const auto = await firstMoveSecond('predictive', 'auto');
    const recommend = await firstMoveSecond('predictive', 'recommend');
    assert.equal(recommend.at, auto.at);
    const a = auto.decisions.find((d) => d.action === 'move')!;
    const r = recommend.decisions.find((d) => d.action === 'move')!;
    assert.deepEqual({ ...r, executed: true }, a);
    assert.equal(r.executed, false);
    assert.equal(recommend.where, 'cpu-a');
  });

  it('load oscillating around the threshold causes no ping-pong', async () => {
    // Each cpu swings between 0.6 and 1.1 in antiphase, period 20 s.
    const swing = (phase: number): Profile => (s) => 0.85 + 0.25 * Math.sin((2 * Math.PI * (s + phase)) / 20);
    const { rt, clock } = scenario({ 'cpu-a': swing(0), 'cpu-b': swing(10) }, { mode: 'auto', policy: 'reactive', cooldownMs: 30_000, pingPongMs: 120_000 });
    rt.spawn(counter, { id: 'svc' });
    await rt.ready;
    await run(clock, 180);
    await rt.controller!.settled();
    const moves = rt.controller!.decisions().filter((d) => d.action === 'move' && d.executed);
    assert.ok(moves.length <= 2, `${moves.length} moves in 180 s`);
    for (let i = 1; i < moves.length; i++) assert.ok(moves[i]!.atMs - moves[i - 1]!.atMs >= 120_000 || moves[i]!.to !== moves[i - 1]!.resource);
    assert.ok(rt.controller!.decisions().some((d) => d.action === 'stay' && (d.reason === 'cooldown' || d.reason === 'ping-pong')));
    await rt.shutdown();
  });

  it('never moves an immovable task, and a suspended controller moves nothing until resumed', async () => {
    const { rt, clock } = scenario({ 'cpu-a': () => 1.3, 'cpu-b': cool }, { mode: 'auto', policy: 'reactive' });
    rt.spawn(counterWith({ name: 'pinned', immovable: true }), { id: 'pinned' });
    rt.spawn(counter, { id: 'free', affinity: { require: { resources: ['cpu-a'] }, prefer: [{ resource: 'cpu-a' }] } });
    const mobile = rt.spawn(counter, { id: 'mobile', affinity: { require: { resources: ['cpu-a'] } } });
    await rt.ready;
    rt.controller!.suspend();
    await run(clock, 5);
    assert.equal(rt.controller!.status().ticks, 0);
    rt.controller!.resume();
    await run(clock, 5);
    await rt.controller!.settled();
    const pinned = rt.controller!.decisions().filter((d) => d.task === 'pinned');
    assert.ok(pinned.length > 0 && pinned.every((d) => d.action === 'stay' && d.reason === 'immovable'));
    assert.equal(rt.tasks().find((t) => t.id === 'pinned')!.resource, 'cpu-a');
    // Spawn-time hard affinity pins `mobile` to cpu-a: the controller reports it unplaceable and leaves it.
    assert.ok(rt.controller!.decisions().some((d) => d.task === mobile.id && d.action === 'unplaceable' && d.reason === 'require.resources'));
    assert.equal(rt.tasks().find((t) => t.id === 'mobile')!.resource, 'cpu-a');
    await rt.shutdown();
  });

  it('shows its status and decisions with cost terms through the runtime', async () => {
    const { rt, clock } = scenario({ 'cpu-a': () => 1.2, 'cpu-b': cool }, { mode: 'recommend', policy: 'reactive' });
    rt.spawn(counter, { id: 'svc' });
    await rt.ready;
    await run(clock, 3);
    const s = rt.controller!.status();
    assert.equal(s.mode, 'recommend');
    assert.ok(s.ticks >= 2);
    // The first tick recommends the move; later ones hold it back as if it had happened (cooldown), as auto would.
    const [d, later] = rt.controller!.decisions();
    assert.equal(d!.action, 'move');
    assert.deepEqual([later!.action, later!.reason], ['stay', 'cooldown']);
    assert.equal(typeof d!.terms!.total, 'number');
    rt.controller!.setMode('off');
    const ticks = rt.controller!.status().ticks;
    await run(clock, 3);
    assert.equal(rt.controller!.status().ticks, ticks);
    assert.throws(() => rt.controller!.setMode('sideways' as 'off'), { code: 'GODWIT_ERR_INVALID_ARGUMENT' });
    await rt.shutdown();
  });

  it('is reachable from the debug socket: decisions with cost terms, mode changes and the kill switch (admin only)', async () => {
    const clock = createManualClock();
    const rt = createRuntime({
      clock,
      logger: { level: 'silent' },
      devices: ['cpu-a', 'cpu-b'].map((id) => simulatedDevice({ id, kind: 'cpu' })),
      monitor: { intervalMs: 1000 },
      controller: { mode: 'recommend', policy: 'reactive' },
      debug: { port: 0, token: 'controller-token', admin: true },
    });
    rt.monitorWith('cpu-a', () => ({ utilization: 1.3 }));
    rt.monitorWith('cpu-b', () => ({ utilization: 0.1 }));
    rt.spawn(counter, { id: 'svc' });
    await rt.ready;
    await run(clock, 2);
    const c = await connectDebugSocket(rt.debugUrl!, { token: 'controller-token' });
    try {
      const view = await c.request<Parameters<typeof controllerText>[0] & { status: { mode: string }; decisions: Decision[] }>('controller', { limit: 5 });
      assert.equal(view.supported, true);
      assert.equal(view.status.mode, 'recommend');
      assert.equal(view.decisions[0]!.action, 'move');
      const text = controllerText(view);
      assert.match(text, /^controller: mode recommend/m);
      assert.match(text, /^\S+\s+move\s+svc\s+cpu-a\s+cpu-b\s+predicted-overload\s+-?\d/m);
      await c.request('controller.mode', { mode: 'auto' });
      assert.equal(rt.controller!.mode, 'auto');
      await c.request('controller.suspend');
      assert.equal(rt.controller!.suspended, true);
      await c.request('controller.resume');
      assert.equal(rt.controller!.suspended, false);
    } finally {
      await c.close();
      await rt.shutdown();
    }
  });

  it('power-aware mode packs a lightly loaded resource, idles it (no idle draw while idle) and wakes one when load is predicted', async () => {
    let level = 0.1;
    const clock = createManualClock();
    const rt = createRuntime({
      clock,
      logger: { level: 'silent' },
      devices: ['cpu-a', 'cpu-b'].map((id) => simulatedDevice({ id, kind: 'cpu', computeUnits: 4, power: { idleW: 50, peakW: 150 } })),
      monitor: { intervalMs: 1000 },
      controller: { mode: 'auto', policy: 'reactive', powerAware: true, horizonMs: 300_000, cooldownMs: 1000, pingPongMs: 1000 },
    });
    rt.monitorWith('cpu-a', () => ({ utilization: level }));
    rt.monitorWith('cpu-b', () => ({ utilization: level }));
    const one = rt.spawn(counter, { id: 'one' });
    const two = rt.spawn(counter, { id: 'two' });
    await rt.ready;
    assert.notEqual(rt.tasks().find((t) => t.id === 'one')!.resource, rt.tasks().find((t) => t.id === 'two')!.resource);
    await run(clock, 4);
    await rt.controller!.settled();
    await run(clock, 2);
    const idle = rt.resources().filter((r) => r.powerState === 'idle');
    assert.equal(idle.length, 1, JSON.stringify(rt.controller!.decisions()));
    assert.equal(idle[0]!.tasks, 0);
    const energyBefore = idle[0]!.energyJ;
    await run(clock, 10);
    assert.equal(rt.resources().find((r) => r.id === idle[0]!.id)!.energyJ, energyBefore);
    const status = rt.controller!.status();
    assert.deepEqual(status.idle, [idle[0]!.id]);
    assert.equal(status.energy.resources[idle[0]!.id], energyBefore);
    assert.ok(Math.abs(status.energy.totalJ - Object.values(status.energy.resources).reduce((a, b) => a + b, 0)) < 1e-9);
    assert.equal(await rt.ask(one, { type: 'get' }), 0);
    assert.equal(await rt.ask(two, { type: 'get' }), 0);
    level = 0.97;
    await run(clock, 3);
    assert.ok(rt.controller!.decisions().some((d) => d.action === 'wake' && d.resource === idle[0]!.id));
    assert.equal(rt.resources().find((r) => r.id === idle[0]!.id)!.powerState, 'active');
    await rt.controller!.settled();
    await rt.shutdown();
  });

  it('evacuates a resource whose temperature is predicted to reach its failure threshold, before it fails', async () => {
    const { rt, clock } = await heating('predictive');
    let failedAt: number | undefined;
    await run(clock, 45, (s) => {
      if (s === 40) {
        failedAt = s;
        rt.failResource('cpu-a');
      }
    });
    await rt.controller!.settled();
    // The rising failure risk moves it as soon as it outweighs the move (reason failure-risk), or at the
    // evacuation threshold at the latest (predicted-failure): either way before the failure.
    const evac = rt.controller!.decisions().find((d) => (d.action === 'evacuate' || d.action === 'move') && d.executed);
    assert.ok(evac, JSON.stringify(rt.controller!.decisions().slice(0, 3)));
    assert.ok(evac.reason === 'failure-risk' || evac.reason === 'predicted-failure', evac.reason);
    assert.ok(evac.atMs < 40_000, `moved at ${evac.atMs} ms; the resource failed at ${failedAt} s`);
    const risk = rt.forecasts().find((r) => r.resource === 'cpu-a');
    assert.ok(risk && risk.forecasts.some((f) => f.metric === 'utilization' && f.horizonMs === 15_000));
    assert.equal(rt.tasks()[0]!.resource, 'cpu-b');
    assert.equal(rt.tasks()[0]!.restarts, 0);
    await rt.shutdown();
  });

  it('a reactive policy ignores the failure prediction: the task stays until the failure, then supervision re-places it', async () => {
    const { rt, clock } = await heating('reactive');
    const replaced = recordEvents(rt, ['task.replaced']);
    await run(clock, 39);
    assert.equal(rt.controller!.decisions().filter((d) => d.executed).length, 0);
    rt.failResource('cpu-a');
    await run(clock, 2);
    assert.equal(replaced.length, 1);
    assert.equal(rt.tasks()[0]!.resource, 'cpu-b');
    await rt.shutdown();
  });
});
