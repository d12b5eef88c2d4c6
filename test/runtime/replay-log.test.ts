import assert from 'node:assert/strict';
import { PartitionedState, ReplayBufferFullError, defineTask, isGodwitError } from '../../src/index.js';
import { GAP_WAIT_MS } from '../../src/actors/stream-order.js';
import { ReplayLog } from '../../src/runtime/cluster/replay-log.js';
import type { RuntimeImpl } from '../../src/runtime/runtime.js';
import { decodeFrame, frameOf } from '../../src/runtime/transport/frames.js';
import { manualRuntime, quietRuntime } from '../helpers.js';

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

    it('gives the seq of a refused last message back, so the task does not wait for it', () => {
      const log = new ReplayLog('s', Infinity);
      for (let i = 0; i < 3; i++) log.stamp('x', i);
      log.discard('x', 3);
      assert.equal(log.lastSeq('x'), 2);
      assert.equal(log.stamp('x', 'next').seq, 3);
      assert.deepEqual(log.pending('x').map((e) => [e.seq, e.msg]), [[1, 0], [2, 1], [3, 'next']]);
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

  it('applies a stamped message that came ahead of its sender\'s stream after the ones before it; other senders and local sends go on meanwhile', async () => {
    const rt = quietRuntime({ tasks: [dump] });
    try {
      const impl = rt as unknown as RuntimeImpl;
      const ref = rt.spawn(dump, { id: 'o' });
      const cell = impl.directory.get('o')!;
      impl.deliver(cell, 10, undefined, { origin: 'n1', seq: 1 });
      impl.deliver(cell, 40, undefined, { origin: 'n1', seq: 4 });
      impl.deliver(cell, 30, undefined, { origin: 'n1', seq: 3 });
      impl.deliver(cell, 99, undefined, { origin: 'n2', seq: 1 });
      rt.send(ref, 5);
      assert.deepEqual(await rt.ask(ref, 'get'), [10, 99, 5]);
      assert.equal(rt.tasks().find((x) => x.id === 'o')?.mailboxDepth, 2, 'the two early ones count as waiting');
      impl.deliver(cell, 20, undefined, { origin: 'n1', seq: 2 });
      impl.deliver(cell, 30, undefined, { origin: 'n1', seq: 3 }); // a replay of one that waited
      assert.deepEqual(await rt.ask(ref, 'get'), [10, 99, 5, 20, 30, 40]);
      const info = rt.tasks().find((x) => x.id === 'o')!;
      assert.deepEqual([info.mailboxDepth, info.duplicates, info.gapsSkipped], [0, 1, 0]);
    } finally {
      await rt.shutdown();
    }
  });

  it('gives up on a gap that stays open for GAP_WAIT_MS: what waited goes on, the gap is counted, and its late message counts as a replay', async () => {
    const { rt, clock } = manualRuntime({ tasks: [dump] });
    try {
      const impl = rt as unknown as RuntimeImpl;
      const ref = rt.spawn(dump, { id: 'g' });
      const cell = impl.directory.get('g')!;
      impl.deliver(cell, 10, undefined, { origin: 'n1', seq: 1 });
      impl.deliver(cell, 40, undefined, { origin: 'n1', seq: 4 });
      assert.deepEqual(await rt.ask(ref, 'get'), [10]);
      clock.advance(GAP_WAIT_MS - 1);
      assert.deepEqual(await rt.ask(ref, 'get'), [10], 'still waiting');
      clock.advance(1);
      assert.deepEqual(await rt.ask(ref, 'get'), [10, 40]);
      impl.deliver(cell, 20, undefined, { origin: 'n1', seq: 2 });
      impl.deliver(cell, 50, undefined, { origin: 'n1', seq: 5 });
      assert.deepEqual(await rt.ask(ref, 'get'), [10, 40, 50]);
      const info = rt.tasks().find((x) => x.id === 'g')!;
      assert.deepEqual([info.gapsSkipped, info.duplicates, info.mailboxDepth], [2, 1, 0]);
    } finally {
      await rt.shutdown();
    }
  });

  it('a split partitioned task and its partition group take the parts of a stream they see without waiting for the rest; a merge keeps the group\'s waiting ones', async () => {
    type Msg = { key: string; v: number } | { get: string };
    const lists = defineTask<PartitionedState<number[]>, Msg, unknown>({
      name: 'lists',
      partitionKey: (m) => ('get' in m ? m.get : m.key),
      init: () => new PartitionedState<number[]>({ partitionCount: 4 }),
      snapshot: (s) => s.fullSnapshot(),
      restore: (snap) => PartitionedState.fromSnapshot<number[]>(snap),
      receive(s, m, ctx) {
        if ('get' in m) ctx.reply(s.get(m.get) ?? []);
        else s.set(m.key, [...(s.get(m.key) ?? []), m.v]);
        return s;
      },
    });
    const rt = quietRuntime({ tasks: [lists] });
    try {
      const impl = rt as unknown as RuntimeImpl;
      const ref = rt.spawn(lists, { id: 'p', affinity: { prefer: [{ kind: 'cpu' }] } });
      await rt.ask(ref, { get: 'none' }); // started
      const state = impl.directory.get('p')!.state as PartitionedState<number[]>;
      const [mine, theirs] = [0, 1].map((p) => Array.from({ length: 64 }, (_, k) => `k${k}`).find((k) => state.partitionOf(k) === p)!) as [string, string];
      const report = await rt.migrate(ref, { to: 'gpu-0', partitions: [1] });
      assert.equal(report.outcome, 'committed', report.reason);
      const cell = impl.directory.get('p')!;
      const group = rt.tasks().find((t) => t.id !== 'p')!;
      impl.deliver(cell, { key: mine, v: 1 }, undefined, { origin: 'n1', seq: 1 });
      impl.deliver(cell, { key: theirs, v: 2 }, undefined, { origin: 'n1', seq: 2 });
      impl.deliver(cell, { key: mine, v: 3 }, undefined, { origin: 'n1', seq: 3 });
      assert.deepEqual(await rt.ask(ref, { get: mine }), [1, 3]);
      assert.deepEqual(await rt.ask(ref, { get: theirs }), [2]);
      // The group is slow: its next one waits there while the task goes past it; a merge keeps it.
      await impl.directory.get(group.id)!.freeze();
      impl.deliver(cell, { key: theirs, v: 4 }, undefined, { origin: 'n1', seq: 4 });
      impl.deliver(cell, { key: mine, v: 5 }, undefined, { origin: 'n1', seq: 5 });
      assert.deepEqual(await rt.ask(ref, { get: mine }), [1, 3, 5]);
      assert.equal((await rt.migrate(group.ref, { merge: true })).outcome, 'committed');
      assert.deepEqual(await rt.ask(ref, { get: theirs }), [2, 4]);
      assert.ok(rt.tasks().every((t) => t.gapsSkipped === 0 && t.duplicates === 0));
    } finally {
      await rt.shutdown();
    }
  });
});
