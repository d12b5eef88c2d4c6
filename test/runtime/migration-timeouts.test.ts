import assert from 'node:assert/strict';
import { createManualClock, createRuntime, defineTask, simulatedDevice, type ManualClock, type Runtime, type TaskRef } from '../../src/index.js';
import { until } from '../helpers.js';

/** Counts `inc`, answers `get`; `block` starts an async turn that ends only when the test opens the gate. */
function gated() {
  let open: () => void = () => {};
  let onBlocked: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const blocked = new Promise<void>((resolve) => (onBlocked = resolve));
  const def = defineTask<{ n: number; ballast: Uint8Array }, 'inc' | 'get' | 'block', number>({
    name: 'gated',
    init: () => ({ n: 0, ballast: new Uint8Array(4 * 2 ** 20) }), // four chunks across nodes
    async receive(s, msg, ctx) {
      if (msg === 'get') ctx.reply(s.n);
      else if (msg === 'inc') s.n++;
      else {
        onBlocked();
        await gate;
      }
      return s;
    },
  });
  return { def, open: () => open(), blocked };
}

/** A target's migration request handler (tests replace it to stall or lose answers). */
type Receiver = { answer(kind: string, p: Record<string, unknown>): unknown };

/**
 * Makes `receiver` (whose own handler is `answer`) commit for real but never answer a commit;
 * resolves once it has committed. `hold` gets a way to settle the unanswered request at cleanup.
 */
function loseCommitAnswer(receiver: Receiver, answer: Receiver['answer'], hold: (settle: () => void) => void = () => {}): Promise<void> {
  return new Promise<void>((committed) => {
    receiver.answer = (k, p) => {
      const out = answer(k, p);
      if (k !== 'mig.commit') return out;
      void Promise.resolve(out).then(() => committed());
      return new Promise((resolve) => hold(() => resolve({})));
    };
  });
}

describe('Runtime#migrate phase timeouts', () => {
  describe('within a node', () => {
    it('aborts a freeze that outlasts phaseTimeoutMs (a turn in flight that never ends); the task goes on where it was', async () => {
      const clock = createManualClock();
      const { def, open, blocked } = gated();
      const rt = createRuntime({ clock, logger: { level: 'silent' }, devices: [simulatedDevice({ kind: 'cpu', id: 'cpu-0' }), simulatedDevice({ kind: 'cpu', id: 'cpu-1' })] });
      try {
        const ref = rt.spawn(def, { id: 'g', affinity: { prefer: [{ resource: 'cpu-0', weight: 10 }] } });
        rt.send(ref, 'inc');
        assert.equal(await rt.ask(ref, 'get'), 1);
        rt.send(ref, 'block');
        await blocked;
        const moving = rt.migrate(ref, { to: 'cpu-1', phaseTimeoutMs: 500 });
        rt.send(ref, 'inc'); // queues behind the blocked turn
        clock.advance(499);
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(rt.migrations().length, 0, 'still freezing before the timeout');
        clock.advance(1);
        const report = await moving;
        assert.equal(report.outcome, 'aborted');
        assert.match(report.reason ?? '', /timed out in phase freeze: the turn in flight took longer than 500 ms/);
        assert.deepEqual(
          report.phases.map((p) => p.phase),
          ['propose', 'prepare', 'freeze'],
        );
        open();
        assert.equal(await rt.ask(ref, 'get'), 2, 'the queued message ran at the source');
        assert.deepEqual(rt.tasks().map((t) => t.resource), ['cpu-0']);
        assert.equal(rt.resources().find((r) => r.id === 'cpu-1')?.tasks, 0, 'nothing left on the target');
        const again = await rt.migrate(ref, { to: 'cpu-1' });
        assert.equal(again.outcome, 'committed', again.reason);
        assert.equal(await rt.ask(ref, 'get'), 2);
      } finally {
        open();
        await rt.shutdown();
      }
    });
  });

  describe('commit in doubt, target gone', function () {
    this.timeout(20_000);

    it('a target that commits, then leaves before its answer arrives: the source learns from the RMS that it is gone without the task and resumes it', async () => {
      const SECRET = 'in-doubt-secret';
      const common = { auth: { secret: SECRET }, logger: { level: 'silent' as const }, heartbeatIntervalMs: 50, failureTimeoutMs: 60_000, monitor: false as const };
      const { def } = gated();
      // The RMS declares a silent node dead after 300 ms.
      const rms = createRuntime({ ...common, failureTimeoutMs: 300, name: 'rms', rms: true, devices: [], tasks: [def as never] });
      await rms.ready;
      const clock = createManualClock();
      const src = createRuntime({ ...common, clock, name: 's', join: rms.url!, devices: [simulatedDevice({ kind: 'cpu', id: 's/cpu-0' })], tasks: [def as never] });
      const dst = createRuntime({ ...common, name: 't', join: rms.url!, devices: [simulatedDevice({ kind: 'cpu', id: 't/cpu-0' })], tasks: [def as never] });
      let dstUp = true;
      try {
        await Promise.all([src.ready, dst.ready]);
        await until([rms, src, dst], () => [rms, src, dst].every((n) => n.nodes().length === 3));
        const ref = src.spawn(def, { id: 'doubt', affinity: { prefer: [{ resource: 's/cpu-0', weight: 100 }] } });
        src.send(ref, 'inc');
        assert.equal(await src.ask(ref, 'get'), 1);
        const receiver = (dst as unknown as { migrationReceiver: Receiver }).migrationReceiver;
        const committed = loseCommitAnswer(receiver, receiver.answer.bind(receiver));
        const moving = src.migrate(ref, { to: 't/cpu-0', phaseTimeoutMs: 2000 });
        await committed;
        // The target leaves (its tasks stop with it) before the source heard anything.
        await dst.shutdown();
        dstUp = false;
        let report: Awaited<typeof moving> | undefined;
        void moving.then((r) => (report = r));
        // The source's phase timer and its asking again run on its manual clock.
        for (let i = 0; i < 400 && report === undefined; i++) {
          clock.advance(250);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        assert.ok(report, 'the doubt ended');
        assert.equal(report.outcome, 'aborted');
        assert.match(report.reason ?? '', /the target did not commit/);
        assert.ok(report.phases.some((p) => p.phase === 'in-doubt'));
        src.send(ref, 'inc');
        assert.equal(await src.ask(ref, 'get'), 2, 'the task resumed at the source, its state intact');
        assert.equal(await rms.ask(ref, 'get'), 2, 'and the directory finds it there again');
      } finally {
        await src.shutdown();
        if (dstUp) await dst.shutdown();
        await rms.shutdown();
      }
    });
  });

  describe('concurrency', () => {
    it('runs at most maxConcurrentMigrations at once, the rest in arrival order, each with its actor under /system/controller while in flight', async () => {
      const clock = createManualClock();
      const { def, open, blocked } = gated();
      const rt = createRuntime({ clock, logger: { level: 'silent' }, maxConcurrentMigrations: 1, devices: [simulatedDevice({ kind: 'cpu', id: 'cpu-0' }), simulatedDevice({ kind: 'cpu', id: 'cpu-1' })] });
      const impl = rt as unknown as { migrator: { running(): Array<{ id: string; task: string; actor: string }> } };
      try {
        const stay = { affinity: { prefer: [{ resource: 'cpu-0', weight: 10 }] } };
        const a = rt.spawn(def, { id: 'a', ...stay });
        const b = rt.spawn(def, { id: 'b', ...stay });
        assert.equal(await rt.ask(b, 'get'), 0);
        rt.send(a, 'block');
        await blocked;
        const first = rt.migrate(a, { to: 'cpu-1' }); // freezes behind a's blocked turn
        const second = rt.migrate(b, { to: 'cpu-1' }); // waits for the one slot
        await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(impl.migrator.running().map((m) => [m.task, m.actor]), [['a', '/system/controller/mig-1']], 'b waits; a has its actor');
        await assert.rejects(rt.migrate(b, { to: 'cpu-1' }), { code: 'GODWIT_ERR_MIGRATION_IN_PROGRESS' });
        clock.advance(7);
        open();
        const [ra, rb] = await Promise.all([first, second]);
        assert.deepEqual([ra.outcome, rb.outcome], ['committed', 'committed']);
        assert.equal(ra.queuedMs, undefined);
        assert.equal(rb.queuedMs, 7, 'b started once a was done');
        assert.ok((rb.phases[0]?.atMs ?? 0) >= (ra.phases.at(-1)?.atMs ?? Infinity));
        assert.deepEqual(impl.migrator.running(), [], 'the actors are gone with their migrations');
        assert.deepEqual(rt.tasks().map((t) => t.resource).sort(), ['cpu-1', 'cpu-1']);
      } finally {
        open();
        await rt.shutdown();
      }
    });
  });

  describe('across nodes', function () {
    this.timeout(20_000);
    const SECRET = 'phase-timeout-secret';
    let rms: Runtime;
    let src: Runtime;
    let dst: Runtime;
    let clock: ManualClock;
    /** The target's request handler, replaced by tests that make it stall. */
    let receiver: Receiver & { shadows(): string[] };
    let answer: Receiver['answer'];
    let opened: Array<() => void> = [];

    before(async () => {
      const common = { auth: { secret: SECRET }, logger: { level: 'silent' as const }, heartbeatIntervalMs: 50, failureTimeoutMs: 60_000, monitor: false as const };
      const { def } = gated();
      rms = createRuntime({ ...common, name: 'rms', rms: true, devices: [], tasks: [def as never] });
      await rms.ready;
      // The source runs on a manual clock: its phase timers move only when the test says.
      clock = createManualClock();
      src = createRuntime({ ...common, clock, name: 's', join: rms.url!, devices: [simulatedDevice({ kind: 'cpu', id: 's/cpu-0' })], tasks: [def as never] });
      dst = createRuntime({ ...common, name: 't', join: rms.url!, devices: [simulatedDevice({ kind: 'cpu', id: 't/cpu-0' })], tasks: [def as never] });
      await Promise.all([src.ready, dst.ready]);
      await until([rms, dst], () => [rms, dst].every((n) => n.nodes().length === 3));
      await until([src], () => src.nodes().length === 3);
      receiver = (dst as unknown as { migrationReceiver: Receiver & { shadows(): string[] } }).migrationReceiver;
      answer = receiver.answer.bind(receiver);
    });

    afterEach(() => {
      receiver.answer = answer;
      for (const o of opened) o();
      opened = [];
    });

    after(async () => {
      await Promise.all([src.shutdown(), dst.shutdown()]);
      await rms.shutdown();
    });

    /**
     * Makes the target never answer the `n`-th request of `kind` (from 0). Resolves `stalled` once
     * that request arrived and `aborted` once the source's abort did.
     */
    function stall(kind: string, n = 0) {
      let seen = 0;
      let onStall: () => void = () => {};
      let onAbort: () => void = () => {};
      const stalled = new Promise<void>((resolve) => (onStall = resolve));
      const aborted = new Promise<void>((resolve) => (onAbort = resolve));
      receiver.answer = (k, p) => {
        if (k === kind && seen++ === n) {
          onStall();
          return new Promise((resolve) => opened.push(() => resolve({})));
        }
        const out = answer(k, p);
        if (k === 'mig.abort') onAbort();
        return out;
      };
      return { stalled, aborted };
    }

    async function spawnAt(id: string): Promise<{ ref: TaskRef }> {
      const { def } = gated();
      const ref = src.spawn(def, { id, affinity: { prefer: [{ resource: 's/cpu-0', weight: 100 }] } });
      src.send(ref, 'inc');
      assert.equal(await src.ask(ref, 'get'), 1);
      return { ref };
    }

    for (const { step, n, mode, phase } of [
      { step: 'mig.propose', n: 0, mode: 'stop-and-copy', phase: 'propose' },
      { step: 'mig.chunk', n: 1, mode: 'pre-copy', phase: 'prepare' },
      { step: 'mig.chunk', n: 2, mode: 'stop-and-copy', phase: 'freeze' },
      { step: 'mig.commit', n: 0, mode: 'stop-and-copy', phase: 'commit' },
    ] as const) {
      it(`aborts when the target never answers ${step} #${n} (${mode}): the reason names phase ${phase}, the shadow is released, the task goes on`, async () => {
        const { ref } = await spawnAt(`t-${phase}`);
        const { stalled, aborted } = stall(step, n);
        const moving = src.migrate(ref, { to: 't/cpu-0', mode, phaseTimeoutMs: 2000 });
        await stalled;
        clock.advance(1999);
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(src.migrations().filter((m) => m.task === ref.id).length, 0, 'not yet aborted');
        clock.advance(1);
        const report = await moving;
        assert.equal(report.outcome, 'aborted');
        assert.match(report.reason ?? '', new RegExp(`timed out in phase ${phase}: the answer of node t to ${step} took longer than 2000 ms`));
        // An unanswered commit is in doubt until the target says it did not commit.
        assert.equal(report.phases.at(-1)?.phase, phase === 'commit' ? 'in-doubt' : phase);
        if (phase === 'commit') assert.match(report.reason ?? '', /the target did not commit/);
        await aborted;
        assert.deepEqual(receiver.shadows(), [], 'the target dropped its shadow');
        assert.ok(!dst.tasks().some((t) => t.id === ref.id), 'nothing adopted at the target');
        src.send(ref, 'inc');
        assert.equal(await src.ask(ref, 'get'), 2, 'the task serves at the source');
        assert.equal(src.tasks().find((t) => t.id === ref.id)?.resource, 's/cpu-0');
        receiver.answer = answer;
        const again = await src.migrate(ref, { to: 't/cpu-0', mode });
        assert.equal(again.outcome, 'committed', again.reason);
        assert.equal(await rms.ask(ref, 'get'), 2);
      });
    }

    it('a commit whose answer is lost is in doubt: the source asks the target, learns it committed, and hands over (the task runs at one end only)', async () => {
      const { ref } = await spawnAt('t-lost-answer');
      // The target commits; its answer never reaches the source.
      const committed = loseCommitAnswer(receiver, answer, (settle) => opened.push(settle));
      const moving = src.migrate(ref, { to: 't/cpu-0', phaseTimeoutMs: 2000 });
      await committed;
      src.send(ref, 'inc'); // queued at the frozen source: it must reach the target, once
      assert.ok(dst.tasks().some((t) => t.id === ref.id), 'the target adopted the task');
      assert.ok(src.tasks().some((t) => t.id === ref.id), 'the source still holds it, frozen');
      clock.advance(2000);
      const report = await moving;
      assert.equal(report.outcome, 'committed', report.reason);
      assert.deepEqual(
        report.phases.map((x) => x.phase),
        ['propose', 'prepare', 'freeze', 'commit', 'in-doubt', 'redirect', 'decommission'],
      );
      assert.ok(!src.tasks().some((t) => t.id === ref.id), 'the source let go of it');
      assert.equal(await src.ask(ref, 'get'), 2, 'the message queued during the doubt ran once, at the target');
      assert.equal(dst.tasks().find((t) => t.id === ref.id)?.resource, 't/cpu-0');
    });

    it('a commit that reaches the target after the source gave up on it is refused: the task stays at the source alone', async () => {
      const { ref } = await spawnAt('t-late-commit');
      let late: { p: Record<string, unknown> } | undefined;
      let arrived: () => void = () => {};
      const held = new Promise<void>((resolve) => (arrived = resolve));
      receiver.answer = (k, p) => {
        if (k === 'mig.commit' && !late) {
          // The commit is held up on its way (a slow link): the target sees it only later.
          late = { p };
          arrived();
          return new Promise(() => {});
        }
        return answer(k, p);
      };
      const moving = src.migrate(ref, { to: 't/cpu-0', phaseTimeoutMs: 2000 });
      await held;
      clock.advance(2000);
      const report = await moving;
      assert.equal(report.outcome, 'aborted');
      assert.match(report.reason ?? '', /the target did not commit/);
      await assert.rejects(Promise.resolve(answer('mig.commit', late!.p)), /was aborted/);
      assert.ok(!dst.tasks().some((t) => t.id === ref.id), 'the late commit adopted nothing');
      src.send(ref, 'inc');
      assert.equal(await src.ask(ref, 'get'), 2, 'the task serves at the source');
    });
  });
});
