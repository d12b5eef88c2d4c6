import assert from 'node:assert/strict';
import {
  AskTimeoutError,
  DuplicateTaskError,
  ErrorCodes,
  GodwitError,
  InvalidArgumentError,
  NoReplyError,
  RuntimeShutDownError,
  TaskRef,
  TaskStoppedError,
  UnknownTaskError,
  defineTask,
  isTaskRef,
  type Runtime,
  type TaskContext,
} from '../../src/index.js';
import { counter } from '../fixtures.js';
import { manualRuntime, nextEvent, quietRuntime, recordEvents, settle } from '../helpers.js';

describe('Runtime', () => {
  let rt: Runtime;
  afterEach(async () => rt?.shutdown());

  describe('#spawn', () => {
    it('runs init with the input and answers asks from the resulting state', async () => {
      rt = quietRuntime();
      const ref = rt.spawn(counter, { input: 41 });
      rt.send(ref, { type: 'inc' });
      assert.equal(await rt.ask(ref, { type: 'get' }), 42);
    });

    it('returns a serializable ref that names the task and stays valid by id', () => {
      rt = quietRuntime();
      const ref = rt.spawn(counter, { id: 'c1' });
      assert.ok(isTaskRef(ref));
      assert.deepEqual(JSON.parse(JSON.stringify(ref)), { $taskRef: 'c1', task: 'counter' });
      assert.ok(new TaskRef('c1', 'counter') instanceof TaskRef);
    });

    it('refuses a second task with the same id', () => {
      rt = quietRuntime();
      rt.spawn(counter, { id: 'same' });
      assert.throws(() => rt.spawn(counter, { id: 'same' }), (err: unknown) => err instanceof DuplicateTaskError && err.taskId === 'same');
    });

    it('refuses something that is not a task definition', () => {
      rt = quietRuntime();
      assert.throws(() => rt.spawn({} as never), (err: unknown) => err instanceof InvalidArgumentError && err.code === ErrorCodes.INVALID_ARGUMENT);
    });

    it('emits task.spawned with the resource chosen', async () => {
      rt = quietRuntime();
      const seen = nextEvent(rt, 'task.spawned');
      rt.spawn(counter, { id: 'x' });
      const e = await seen;
      assert.equal(e.taskId, 'x');
      assert.equal(e.task, 'counter');
      assert.ok(['cpu-0', 'gpu-0'].includes(e.resource));
    });
  });

  describe('#send', () => {
    it('delivers messages from one sender in order', async () => {
      rt = quietRuntime({ throughput: 3 });
      const ref = rt.spawn(counter);
      for (let i = 0; i < 1000; i++) rt.send(ref, { type: 'log', value: i });
      assert.deepEqual(await rt.ask(ref, { type: 'dump' }), Array.from({ length: 1000 }, (_, i) => i));
      assert.equal(rt.tasks().find((t) => t.id === ref.id)?.processed, 1001);
    });

    it('sends messages to an unknown task to dead letters, observably', async () => {
      rt = quietRuntime();
      const dead = nextEvent(rt, 'message.dead-lettered');
      rt.send(new TaskRef('nobody', 'counter'), { type: 'inc' });
      const e = await dead;
      assert.equal(e.taskId, 'nobody');
      assert.equal(e.reason, 'unknown-task');
      assert.deepEqual(e.message, { type: 'inc' });
      assert.equal(rt.deadLetters, 1);
    });

    it('refuses a value that is not a TaskRef', () => {
      rt = quietRuntime();
      assert.throws(() => rt.send({ id: 'x' } as never, 1), InvalidArgumentError);
    });
  });

  describe('#ask', () => {
    it('rejects with AskTimeoutError carrying the task and timeout when no reply comes in time', async () => {
      const m = manualRuntime();
      rt = m.rt;
      const silent = defineTask({ name: 'silent', init: () => null, receive: (s, _m, ctx: TaskContext) => (ctx.deferReply(), s) });
      const ref = rt.spawn(silent, { id: 's' });
      const pending = rt.ask(ref, 'hello', { timeoutMs: 250 });
      await settle();
      m.clock.advance(249);
      m.clock.advance(1);
      await assert.rejects(pending, (err: unknown) => {
        assert.ok(err instanceof AskTimeoutError);
        assert.ok(err instanceof GodwitError);
        assert.equal(err.code, 'GODWIT_ERR_ASK_TIMEOUT');
        assert.equal(err.taskId, 's');
        assert.equal(err.timeoutMs, 250);
        return true;
      });
    });

    it('rejects with NoReplyError when the turn ends without a reply', async () => {
      rt = quietRuntime();
      const ref = rt.spawn(counter);
      await assert.rejects(rt.ask(ref, { type: 'inc' }), (err: unknown) => err instanceof NoReplyError && err.code === 'GODWIT_ERR_NO_REPLY');
    });

    it('rejects at once for an unknown task', async () => {
      rt = quietRuntime();
      await assert.rejects(rt.ask(new TaskRef('ghost', 'x'), 1), (err: unknown) => err instanceof UnknownTaskError && err.taskId === 'ghost');
    });

    it('lets a task answer later through deferReply, and forward the duty to another task', async () => {
      rt = quietRuntime();
      const target = rt.spawn(counter, { input: 7 });
      const proxy = defineTask<null, { to: TaskRef }>({
        name: 'proxy',
        init: () => null,
        receive(s, msg, ctx) {
          ctx.forward(msg.to, { type: 'get' });
          return s;
        },
      });
      const p = rt.spawn(proxy);
      assert.equal(await rt.ask(p, { to: target }), 7);

      const later = defineTask<Array<(v: unknown) => void>, string>({
        name: 'later',
        init: () => [],
        receive(waiting, msg, ctx) {
          if (msg === 'wait') return [...waiting, ctx.deferReply().resolve];
          for (const answer of waiting) answer('released');
          return [];
        },
      });
      const l = rt.spawn(later);
      const answer = rt.ask(l, 'wait');
      rt.send(l, 'release');
      assert.equal(await answer, 'released');
    });

    it('awaits async receive before the next message, keeping order', async () => {
      rt = quietRuntime();
      const slow = defineTask<number[], number>({
        name: 'slow',
        init: () => [],
        async receive(seen, msg, ctx) {
          await Promise.resolve();
          if (msg < 0) {
            ctx.reply(seen);
            return seen;
          }
          return [...seen, msg];
        },
      });
      const ref = rt.spawn(slow);
      for (let i = 0; i < 50; i++) rt.send(ref, i);
      assert.deepEqual(await rt.ask(ref, -1), Array.from({ length: 50 }, (_, i) => i));
    });
  });

  describe('#stop', () => {
    it('stops the task, dead-letters what it had queued and fails queued asks with TaskStoppedError', async () => {
      rt = quietRuntime();
      const ref = rt.spawn(counter, { id: 'doomed' });
      const events = recordEvents(rt, ['task.stopped', 'message.dead-lettered']);
      rt.send(ref, { type: 'inc' });
      const queued = rt.ask(ref, { type: 'get' });
      await rt.stop(ref);
      await assert.rejects(queued, (err: unknown) => err instanceof TaskStoppedError && err.taskId === 'doomed');
      assert.deepEqual(
        events.map((e) => e.type),
        ['message.dead-lettered', 'message.dead-lettered', 'task.stopped'],
      );
      assert.equal(rt.tasks().length, 0);
      await assert.rejects(rt.stop(ref), UnknownTaskError);
    });
  });

  describe('#shutdown', () => {
    it('stops every task and refuses further use with RuntimeShutDownError', async () => {
      rt = quietRuntime();
      const ref = rt.spawn(counter);
      await rt.shutdown();
      assert.throws(() => rt.spawn(counter), RuntimeShutDownError);
      assert.throws(() => rt.send(ref, { type: 'inc' }), RuntimeShutDownError);
      await assert.rejects(rt.ask(ref, { type: 'get' }), RuntimeShutDownError);
      await rt.shutdown();
    });
  });

  describe('#tasks', () => {
    it('lists tasks with their resource, path in the tree, and counters', async () => {
      rt = quietRuntime();
      const ref = rt.spawn(counter, { id: 'listed', affinity: { require: { kinds: ['gpu'] } } });
      await rt.ask(ref, { type: 'get' });
      const [info] = rt.tasks();
      assert.equal(info?.id, 'listed');
      assert.equal(info?.resource, 'gpu-0');
      assert.equal(info?.kind, 'gpu');
      assert.equal(info?.status, 'running');
      assert.equal(info?.path, '/system/resources/gpu-0/task:listed');
      assert.equal(info?.processed, 1);
      assert.equal(info?.epoch, 0);
    });
  });

  describe('child tasks', () => {
    it('spawns children with ids under the parent and stops them with it', async () => {
      rt = quietRuntime();
      const parent = defineTask<TaskRef[], 'list'>({
        name: 'parent',
        init: (_input, ctx) => [ctx.spawnChild(counter, { id: 'a' }), ctx.spawnChild(counter, { id: 'b', input: 5 })],
        receive(kids, _msg, ctx) {
          ctx.reply(kids);
          return kids;
        },
      });
      const p = rt.spawn(parent, { id: 'p' });
      const kids = await rt.ask<TaskRef[]>(p, 'list');
      assert.deepEqual(kids.map((k) => k.id), ['p/a', 'p/b']);
      assert.equal(await rt.ask(kids[1]!, { type: 'get' }), 5);
      assert.equal(rt.tasks().find((t) => t.id === 'p/a')?.path, '/system/resources/cpu-0/task:p/task:a');
      await rt.stop(p);
      assert.equal(rt.tasks().length, 0);
    });
  });
});
