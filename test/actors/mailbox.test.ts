import assert from 'node:assert/strict';
import { MailboxFullError, defineTask, type Runtime, type TaskContext } from '../../src/index.js';
import { Mailbox } from '../../src/actors/mailbox.js';
import { manualRuntime, recordEvents } from '../helpers.js';

describe('Mailbox', () => {
  describe('#push', () => {
    it('keeps FIFO order across growth and wrap-around, and refuses past capacity', () => {
      const box = new Mailbox(100);
      const out: unknown[] = [];
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 60; i++) assert.ok(box.push(round * 100 + i, undefined));
        for (let i = 0; i < 50; i++) out.push(box.shift());
      }
      for (let i = 0; i < 50; i++) assert.ok(box.push(500 + i, undefined));
      assert.equal(box.length, 100);
      assert.equal(box.push('one too many', undefined), false);
      out.push(...box.drain().map((e) => e.msg));
      assert.deepEqual(out, Array.from({ length: 6 }, (_, r) => Array.from({ length: r < 5 ? 60 : 50 }, (_, i) => r * 100 + i)).flat());
    });
  });
});

describe('bounded mailboxes', () => {
  let rt: Runtime;
  afterEach(async () => rt?.shutdown());

  // A task that holds its first message (an async turn that never ends), so the mailbox fills.
  const stuck = (overflow: 'reject' | 'drop') =>
    defineTask<null, number>({
      name: `stuck-${overflow}`,
      mailbox: { capacity: 3, overflow },
      init: () => null,
      receive: (_s, _m, _ctx: TaskContext) => new Promise<null>(() => {}),
    });

  it('reject: send throws MailboxFullError with the task and capacity; ask rejects with it', async () => {
    ({ rt } = manualRuntime());
    const ref = rt.spawn(stuck('reject'), { id: 'r' });
    rt.send(ref, 0);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 1; i <= 3; i++) rt.send(ref, i);
    assert.throws(
      () => rt.send(ref, 4),
      (err: unknown) => err instanceof MailboxFullError && err.code === 'GODWIT_ERR_MAILBOX_FULL' && err.taskId === 'r' && err.capacity === 3,
    );
    await assert.rejects(rt.ask(ref, 5), MailboxFullError);
    assert.equal(rt.deadLetters, 0);
  });

  it('drop: the new message goes to dead letters with an event and a count; nothing is thrown', async () => {
    ({ rt } = manualRuntime());
    const dead = recordEvents(rt, ['message.dead-lettered']);
    const ref = rt.spawn(stuck('drop'), { id: 'd' });
    rt.send(ref, 0);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 1; i <= 5; i++) rt.send(ref, i);
    await assert.rejects(rt.ask(ref, 6), MailboxFullError);
    assert.equal(rt.deadLetters, 3);
    assert.deepEqual(
      dead.map((e) => (e.type === 'message.dead-lettered' ? [e.taskId, e.reason, e.message] : [])),
      [
        ['d', 'mailbox-full', 4],
        ['d', 'mailbox-full', 5],
        ['d', 'mailbox-full', 6],
      ],
    );
    assert.equal(rt.tasks()[0]?.mailboxDepth, 3);
  });
});
