import assert from 'node:assert/strict';
import { ReplayBufferFullError, defineTask, isGodwitError } from '../../src/index.js';
import { ReplayLog } from '../../src/runtime/cluster/replay-log.js';
import type { RuntimeImpl } from '../../src/runtime/runtime.js';
import { decodeFrame, frameOf } from '../../src/runtime/transport/frames.js';
import { quietRuntime } from '../helpers.js';

describe('ReplayLog', () => {
  describe('#stamp', () => {
    it('numbers each task\'s stream from 1 and keeps the SEQ envelope as sent', () => {
      const log = new ReplayLog('s', Infinity);
      assert.deepEqual([log.stamp('x', 'a').seq, log.stamp('x', 'b').seq, log.stamp('y', 'c').seq], [1, 2, 1]);
      const e = log.pending('x')[1]!;
      const frame = decodeFrame(frameOf([e.bytes], e.bytes.length));
      assert.ok(frame.ok);
      assert.deepEqual(frame.envelopes[0], [6, 'x', 'b', 2]);
      assert.equal(log.stats.messages, 3);
    });

    it('refuses a message past maxBytes with ReplayBufferFullError and does not use up its seq', () => {
      const one = new ReplayLog('s', Infinity).stamp('x', 'aaaa').bytes.length;
      const log = new ReplayLog('s', one * 2);
      log.stamp('x', 'aaaa');
      log.stamp('x', 'aaaa');
      assert.throws(
        () => log.stamp('x', 'aaaa'),
        (err: unknown) => err instanceof ReplayBufferFullError && isGodwitError(err) && err.code === 'GODWIT_ERR_REPLAY_BUFFER_FULL' && err.taskId === 'x' && err.bufferedBytes === one * 2 && err.maxBytes === one * 2,
      );
      assert.equal(log.stats.refused, 1);
      log.cover('x', 1);
      assert.equal(log.stamp('x', 'aaaa').seq, 3);
    });
  });

  describe('#cover', () => {
    it('drops what a snapshot covers, never more, and ignores an older coverage', () => {
      const log = new ReplayLog('s', Infinity);
      for (let i = 0; i < 5; i++) log.stamp('x', i);
      log.cover('x', 3);
      assert.deepEqual(log.pending('x').map((e) => e.seq), [4, 5]);
      log.cover('x', 2);
      assert.deepEqual(log.pending('x').map((e) => e.seq), [4, 5]);
      assert.equal(log.stats.trimmed, 3);
      log.cover('x', 5);
      assert.deepEqual(log.pending('x'), []);
      assert.equal(log.stats.bytes, 0);
    });

    it('compacts a long stream as it is trimmed', () => {
      const log = new ReplayLog('s', Infinity);
      for (let i = 0; i < 5000; i++) log.stamp('x', i);
      for (let seq = 100; seq <= 4900; seq += 100) log.cover('x', seq);
      assert.deepEqual(log.pending('x').map((e) => e.seq), Array.from({ length: 100 }, (_, i) => 4901 + i));
      assert.equal(log.stats.messages, 100);
    });
  });

  describe('#unblock', () => {
    it('blocks the streams that went to a node and hands back, in order, what the restored task lacks', () => {
      const log = new ReplayLog('s', Infinity);
      for (let i = 0; i < 6; i++) log.stamp('x', i);
      log.stamp('y', 'other');
      log.sentTo('x', 'b');
      log.sentTo('y', 'c');
      log.cover('x', 2);
      assert.deepEqual(log.blockNode('b'), ['x']);
      assert.ok(log.isBlocked('x') && !log.isBlocked('y'));
      assert.deepEqual(log.blockedOn('b'), ['x']);
      log.stamp('x', 'while down');
      assert.deepEqual(log.unblock('x', 4).map((e) => [e.seq, e.msg]), [
        [5, 4],
        [6, 5],
        [7, 'while down'],
      ]);
      assert.ok(!log.isBlocked('x'));
      assert.equal(log.stats.resent, 3);
    });
  });

  describe('#forget and #discard', () => {
    it('empties a stream but keeps counting, and drops a single refused message', () => {
      const log = new ReplayLog('s', Infinity);
      for (let i = 0; i < 3; i++) log.stamp('x', i);
      log.discard('x', 2);
      assert.deepEqual(log.pending('x').map((e) => e.seq), [1, 3]);
      assert.deepEqual(log.forget('x').map((e) => e.seq), [1, 3]);
      assert.equal(log.stats.messages, 0);
      assert.equal(log.stamp('x', 'again').seq, 4);
    });
  });
});

describe('TaskCell applied map', () => {
  const tally = defineTask<number[], number, unknown>({ name: 'tally', init: () => [], receive: (s, n) => [...s, n] });
  const dump = defineTask<number[], number | 'get', unknown>({
    name: 'tally-get',
    init: () => [],
    receive(s, n, ctx) {
      if (n === 'get') ctx.reply(s);
      else return [...s, n];
      return s;
    },
  });

  it('drops a stamped message whose seq it applied already, counts it, and snapshots the map with the state', async () => {
    const rt = quietRuntime({ tasks: [tally, dump] });
    try {
      const impl = rt as unknown as RuntimeImpl;
      const ref = rt.spawn(dump, { id: 'd' });
      const cell = impl.directory.get('d')!;
      for (const seq of [1, 2, 2, 3, 1, 4]) impl.deliver(cell, seq * 10, undefined, { origin: 'n1', seq });
      impl.deliver(cell, 99, undefined, { origin: 'n2', seq: 1 });
      assert.deepEqual(await rt.ask(ref, 'get'), [10, 20, 30, 40, 99]);
      assert.equal(rt.tasks().find((x) => x.id === 'd')?.duplicates, 2);
      assert.ok(cell.takeSnapshot());
      assert.deepEqual(cell.snapshot?.applied, { n1: 4, n2: 1 });
    } finally {
      await rt.shutdown();
    }
  });
});
