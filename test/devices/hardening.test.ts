import assert from 'node:assert/strict';
import { createManualClock } from '../../src/index.js';
import { runCommand } from '../../src/devices/run-command.js';
import { SupervisedProcess } from '../../src/devices/supervised-process.js';
import { ChunkAssembler } from '../../src/codecs/chunk-assembler.js';
import { createChunkStream } from '../../src/codecs/chunk-format.js';
import { safeStringify } from '../../src/runtime/debug-protocol.js';
import { defaultCodecRegistry } from '../../src/codecs/registry.js';

describe('hardening (review findings)', () => {
  describe('runCommand', () => {
    it('settles at its time limit even when a grandchild keeps the pipes open', async () => {
      const clock = createManualClock();
      // bash waits on `sleep`, which inherits the pipes: killing bash alone does not close them.
      const run = runCommand({ plugin: 'test', command: 'bash', args: ['-c', 'sleep 3; true'], clock, timeoutMs: 100 });
      clock.advance(100);
      await assert.rejects(run, (err: unknown) => (err as { failure?: string }).failure === 'timeout');
    });
  });

  describe('SupervisedProcess#stop', () => {
    it('kills a process that ignores SIGTERM instead of waiting for ever', async function () {
      this.timeout(10_000);
      let started!: () => void;
      const up = new Promise<void>((resolve) => (started = resolve));
      let pid: number | undefined;
      const p = new SupervisedProcess({
        plugin: 'test',
        command: 'bash',
        args: ['-c', 'trap "" TERM; echo ready; while true; do sleep 0.2; done'],
        clock: createManualClock(),
        onLine: () => started(),
        onStarted: (p) => void (pid = p),
        onExited: () => {},
      });
      p.start();
      await up;
      await p.stop(); // SIGTERM is ignored: resolves after the SIGKILL grace
      assert.ok(pid !== undefined);
      assert.throws(() => process.kill(pid!, 0), { code: 'ESRCH' }, 'the process is gone');
    });
  });

  describe('ChunkAssembler', () => {
    it('refuses a stream whose first chunk claims more than the limit, before allocating it', () => {
      const bytes = new Uint8Array(64);
      const [first] = [...createChunkStream(bytes, { chunkBytes: 16 })];
      const a = new ChunkAssembler({ maxTotalBytes: 32 });
      assert.throws(() => a.push(first!), { code: 'GODWIT_ERR_CODEC' });
    });
  });

  describe('safeStringify', () => {
    it('writes shared objects in full and marks only real cycles', () => {
      const shared = { x: 1 };
      assert.equal(safeStringify({ a: shared, b: [shared] }), '{"a":{"x":1},"b":[{"x":1}]}');
      const loop: Record<string, unknown> = { n: 1 };
      loop['self'] = loop;
      assert.equal(safeStringify(loop), '{"n":1,"self":"[circular]"}');
    });
  });

  describe('arrow codec', () => {
    it('refuses a column named __proto__ when encoding instead of producing a snapshot that cannot be read back', async () => {
      const arrow = await defaultCodecRegistry.load('arrow');
      assert.throws(() => arrow.encode(JSON.parse('{"__proto__": [1, 2]}') as never), { code: 'GODWIT_ERR_CODEC' });
      assert.throws(() => arrow.encode(JSON.parse('{"__proto__": {"a": 1}}') as never), { code: 'GODWIT_ERR_CODEC' });
    });
  });
});
