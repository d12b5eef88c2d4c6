import assert from 'node:assert/strict';
import { Damper, planTick, resolvePolicy, simulatedDevice, type ClusterView, type PolicyOptions, type ResourceView, type TaskView } from '../../src/index.js';

function resource(id: string, p90: number, extra: Partial<ResourceView> = {}, kind: 'cpu' | 'gpu' = 'cpu'): ResourceView {
  return {
    id,
    device: simulatedDevice({ id, kind, computeUnits: 10, power: { idleW: 100, peakW: 200 } }),
    up: true,
    draining: false,
    idle: false,
    load: extra.load ?? p90,
    forecast: { p50: p90, p90 },
    failureProbability: 0,
    usedComputeUnits: 0,
    usedMemoryBytes: 0,
    ...extra,
  };
}

function task(id: string, on: string, demand: number, extra: Partial<TaskView> = {}): TaskView {
  return { id, task: extra.task ?? 'svc', resource: on, demand, computeUnits: 1, memoryBytes: 0, stateBytes: 1e6, ...extra };
}

function view(resources: ResourceView[], tasks: TaskView[], nowMs = 0): ClusterView {
  return { nowMs, resources, tasks, linkBytesPerS: 100e6, inFlight: 0 };
}

function plan(v: ClusterView, o: PolicyOptions = {}, damper?: Damper) {
  const p = resolvePolicy(o);
  return planTick(v, p, damper ?? new Damper(p)).decisions;
}

describe('planTick', () => {
  it('moves a task off a resource predicted to overload, to the least loaded one, with every cost term', () => {
    const d = plan(view([resource('a', 1.3, { load: 0.6 }), resource('b', 0.2), resource('c', 0.5)], [task('t1', 'a', 3), task('t2', 'a', 3)]));
    const moves = d.filter((x) => x.action === 'move');
    assert.ok(moves.length >= 1);
    const m = moves[0]!;
    assert.equal(m.to, 'b');
    assert.equal(m.reason, 'predicted-overload');
    assert.ok(m.terms && m.terms.gain > 0 && m.terms.total < 0);
    for (const k of ['degradation', 'transfer', 'disruption', 'energy', 'moveCost', 'affinity', 'gain', 'total'] as const) assert.equal(typeof m.terms[k], 'number');
    assert.ok(Math.abs(m.terms.total - (m.terms.degradation + m.terms.transfer + m.terms.disruption + m.terms.energy + m.terms.moveCost + m.terms.affinity - m.terms.gain)) < 1e-9);
  });

  it('reactive policy ignores the forecast and keeps a task whose resource is only predicted to overload', () => {
    const v = view([resource('a', 1.3, { load: 0.5 }), resource('b', 0.2)], [task('t1', 'a', 3)]);
    assert.equal(plan(v, { policy: 'reactive' }).filter((x) => x.action === 'move').length, 0);
    assert.equal(plan(v).filter((x) => x.action === 'move').length, 1);
  });

  it('leaves tasks alone when no resource is at risk', () => {
    assert.deepEqual(plan(view([resource('a', 0.5), resource('b', 0.2)], [task('t1', 'a', 3)])), []);
  });

  it('never moves an immovable task and says so', () => {
    const d = plan(view([resource('a', 1.5), resource('b', 0.1)], [task('t1', 'a', 3, { immovable: true })]));
    assert.deepEqual(d.map((x) => [x.action, x.reason]), [['stay', 'immovable']]);
  });

  it('honours hard affinity: a task that requires a gpu is not moved to a cpu, and is reported unplaceable', () => {
    const d = plan(view([resource('g', 1.5, {}, 'gpu'), resource('c', 0.1)], [task('t1', 'g', 3, { affinity: { require: { kinds: ['gpu'] } } })]));
    assert.equal(d.length, 1);
    assert.equal(d[0]!.action, 'unplaceable');
    assert.equal(d[0]!.reason, 'require.kinds');
  });

  it('honours hard anti-affinity (notWith)', () => {
    const d = plan(
      view(
        [resource('a', 1.5), resource('b', 0.1), resource('c', 0.6)],
        [task('t1', 'a', 3, { task: 'db', affinity: { require: { notWith: ['db'] } } }), task('t2', 'b', 0.1, { task: 'db' })],
      ),
    );
    const m = d.find((x) => x.task === 't1' && x.action === 'move');
    assert.equal(m?.to, 'c');
  });

  it('evacuates a resource predicted to fail, most valuable task first, even onto busier resources', () => {
    const d = plan(view([resource('a', 0.3, { failureProbability: 0.9 }), resource('b', 0.6)], [task('low', 'a', 1, { value: 1 }), task('high', 'a', 1, { value: 50 })]));
    assert.deepEqual(d.filter((x) => x.action === 'evacuate').map((x) => [x.task, x.to, x.reason]), [['high', 'b', 'predicted-failure'], ['low', 'b', 'predicted-failure']]);
  });

  it('does not move a task whose cost exceeds its gain (a huge state over a slow link)', () => {
    const v = { ...view([resource('a', 0.95), resource('b', 0.1)], [task('t1', 'a', 2, { stateBytes: 50e9 })]), linkBytesPerS: 10e6 };
    const d = plan(v);
    assert.equal(d.length, 1);
    assert.equal(d[0]!.action, 'stay');
    assert.equal(d[0]!.reason, 'no-gain');
    assert.ok(d[0]!.terms!.transfer > d[0]!.terms!.gain);
  });

  it('a task-declared moveCost is charged', () => {
    const d = plan(view([resource('a', 0.95), resource('b', 0.1)], [task('t1', 'a', 2, { moveCost: 1e6 })]));
    assert.equal(d[0]!.action, 'stay');
    assert.equal(d[0]!.terms!.moveCost, 1e6);
  });

  it('caps a storm with the move budget and the concurrency limit', () => {
    const tasks = Array.from({ length: 20 }, (_, i) => task(`t${i}`, 'a', 0.6));
    const resources = [resource('a', 2), ...Array.from({ length: 10 }, (_, i) => resource(`r${i}`, 0.05))];
    const d = plan(view(resources, tasks), { movesPerMinute: 5, maxConcurrent: 100, movesPerResourcePerMinute: Infinity });
    assert.equal(d.filter((x) => x.action === 'move').length, 5);
    assert.ok(d.some((x) => x.action === 'stay' && x.reason === 'budget'));
    const c = plan(view(resources, tasks), { maxConcurrent: 3 });
    assert.equal(c.filter((x) => x.action === 'move').length, 3);
    assert.ok(c.some((x) => x.reason === 'max-concurrent'));
  });

  it('a cooldown and the ping-pong rule keep a task from going back', () => {
    const p = resolvePolicy({ cooldownMs: 10_000, pingPongMs: 60_000 });
    const damper = new Damper(p);
    const first = planTick(view([resource('a', 1.2), resource('b', 0.2)], [task('t1', 'a', 4)], 0), p, damper).decisions;
    assert.equal(first[0]!.action, 'move');
    // The load flips: now b is hot and a cold.
    const flipped = (nowMs: number) => view([resource('a', 0.2), resource('b', 1.2)], [task('t1', 'b', 4)], nowMs);
    assert.equal(planTick(flipped(5_000), p, damper).decisions[0]!.reason, 'cooldown');
    assert.equal(planTick(flipped(30_000), p, damper).decisions[0]!.reason, 'ping-pong');
    assert.equal(planTick(flipped(61_000), p, damper).decisions[0]!.action, 'move');
  });

  it('soft affinity alone moves a task to the resource it prefers', () => {
    const d = plan(view([resource('c', 0.3), resource('g', 0.3, {}, 'gpu')], [task('t1', 'c', 1, { affinity: { prefer: [{ kind: 'gpu', weight: 5 }] } })]));
    assert.deepEqual(d.map((x) => [x.action, x.to, x.reason]), [['move', 'g', 'affinity']]);
  });

  it('power-aware mode packs a lightly loaded resource into another and idles it', () => {
    const d = plan(view([resource('a', 0.1), resource('b', 0.3)], [task('t1', 'a', 1), task('t2', 'b', 3)]), { powerAware: true, horizonMs: 300_000 });
    assert.deepEqual(
      d.map((x) => [x.action, x.task, x.resource, x.to]),
      [
        ['pack', 't1', 'a', 'b'],
        ['idle', null, 'a', null],
      ],
    );
  });

  it('power-aware packing fills the fullest resource that stays under the pack bound (best fit)', () => {
    const d = plan(
      view([resource('a', 0.1), resource('b', 0.3), resource('c', 0.6), resource('d', 0.68)], [task('t1', 'a', 0.4), task('tb', 'b', 3), task('tc', 'c', 6), task('td', 'd', 6.8)]),
      { powerAware: true, horizonMs: 300_000 },
    );
    const pack = d.find((x) => x.action === 'pack' && x.task === 't1');
    assert.equal(pack?.to, 'c');
  });

  it('power-aware packing is all or nothing: no half-emptied resource when the budget has room for only part', () => {
    const v = view([resource('a', 0.1), resource('b', 0.3)], [task('t1', 'a', 0.5), task('t2', 'a', 0.5), task('tb', 'b', 3)]);
    const one = plan(v, { powerAware: true, horizonMs: 300_000, maxConcurrent: 1 });
    assert.equal(one.filter((x) => x.resource === 'a').length, 0, 'a, with two tasks, is not half emptied');
    assert.deepEqual(one.map((x) => [x.action, x.task, x.to]), [['pack', 'tb', 'a'], ['idle', null, null]], 'b, with one, is packed');
    assert.equal(plan(v, { powerAware: true, horizonMs: 300_000, maxConcurrent: 2 }).filter((x) => x.action === 'pack').length, 2);
  });

  it('power-aware mode wakes an idle resource when the active ones are predicted to run hot', () => {
    const d = plan(view([resource('a', 0.95), resource('b', 0, { idle: true })], []), { powerAware: true });
    assert.deepEqual(d.map((x) => [x.action, x.resource, x.reason]), [['wake', 'b', 'predicted-load']]);
  });

  it('samples candidates when there are many, deterministically for a seed', () => {
    const resources = [resource('hot', 1.5), ...Array.from({ length: 200 }, (_, i) => resource(`r${i}`, 0.2 + (i % 7) / 20))];
    const v = view(resources, [task('t1', 'hot', 5)], 1234);
    const a = plan(v, { maxCandidates: 8 });
    const b = plan(v, { maxCandidates: 8 });
    assert.deepEqual(a, b);
    assert.equal(a[0]!.action, 'move');
  });
});
