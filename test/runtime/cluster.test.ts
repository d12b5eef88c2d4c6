import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  AuthError,
  NodeDownError,
  UnknownTaskError,
  createRuntime,
  isGodwitError,
  TaskRef,
  type Runtime,
} from '../../src/index.js';
import { connect } from '../../src/runtime/ws-adapter.js';
import { connectDebugSocket } from '../../src/index.js';
import { clientProof, nonce } from '../../src/runtime/transport/auth.js';
import { Env, type Envelope, decodeFrame, encodeEnvelope, frameOf } from '../../src/runtime/transport/frames.js';
import { counter, holder } from '../fixtures/cluster-tasks.js';
import { nextEvent } from '../helpers.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const tasksModule = fileURLToPath(new URL('../fixtures/cluster-tasks.js', import.meta.url));
const SECRET = 'cluster-test-secret';
const DEBUG_TOKEN = 'cluster-debug-token';
const FAILURE_TIMEOUT_MS = 1000;
/** How long after failureTimeoutMs a re-placed task may take to answer again (stated bound). */
const REPLACE_BOUND_MS = 3000;

interface NodeProcess {
  child: ChildProcess;
  url: string;
  node: string;
  debugUrl: string | null;
}

async function startNode(args: string[]): Promise<NodeProcess> {
  const child = spawn(process.execPath, [cli, ...args, '--json', '--secret', SECRET, '--tasks', tasksModule, '--heartbeat-ms', '100', '--failure-timeout-ms', String(FAILURE_TIMEOUT_MS), '--snapshot-interval-ms', '50', '--log-level', process.env['GODWIT_TEST_LOG'] ?? 'error'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  try {
    // --json prints one (pretty) JSON object when the node is ready.
    let text = '';
    for await (const line of lines) {
      text += line;
      if (line === '}') break;
    }
    const info = JSON.parse(text) as { url: string; node: string; debugUrl: string | null };
    return { child, url: info.url, node: info.node, debugUrl: info.debugUrl };
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}

async function stopNode(p: NodeProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = once(p.child, 'exit');
  p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Asks until the task answers: while the RMS re-places it, asks fail fast with a typed error
 * (unknown task, node down), each attempt a real round trip; bounded by `withinMs`.
 */
async function askUntilAnswered(rt: Runtime, ref: TaskRef, msg: unknown, withinMs: number): Promise<unknown> {
  const t0 = performance.now();
  for (;;) {
    try {
      return await rt.ask(ref, msg, { timeoutMs: 500 });
    } catch (err) {
      if (!isGodwitError(err) || performance.now() - t0 > withinMs) throw err;
    }
  }
}

describe('cluster (real processes on 127.0.0.1)', function () {
  this.timeout(60_000);
  let rms: NodeProcess | undefined;
  let a: NodeProcess | undefined;
  let b: NodeProcess | undefined;
  let t: Runtime | undefined;

  before(async () => {
    rms = await startNode(['server', '--port', '0', '--name', 'rms', '--devices', 'cpu', '--debug-port', '0', '--debug-token', DEBUG_TOKEN]);
    [a, b] = await Promise.all([
      startNode(['agent', '--join', rms.url, '--name', 'a', '--devices', 'gpu']),
      startNode(['agent', '--join', rms.url, '--name', 'b', '--devices', 'fpga']),
    ]);
    t = createRuntime({ name: 't', join: rms.url, auth: { secret: SECRET }, devices: [], tasks: [counter, holder], logger: { level: 'silent' }, heartbeatIntervalMs: 100 });
    const joined = nextEvent(t, 'node.joined', () => t!.nodes().length === 4);
    await t.ready;
    if (t.nodes().length < 4) await joined;
  });

  after(async () => {
    await t?.shutdown();
    await Promise.all([stopNode(a), stopNode(b), stopNode(rms)]);
  });

  it('forms one runtime of four nodes', () => {
    assert.deepEqual(t!.nodes().map((n) => n.node).sort(), ['a', 'b', 'rms', 't']);
    assert.equal(t!.nodes().find((n) => n.node === 'rms')?.rms, true);
  });

  it('places a task on another node by affinity and delivers one sender\'s messages in order', async () => {
    const ref = t!.spawn(counter, { id: 'ordered', affinity: { require: { kinds: ['gpu'] } } });
    for (let i = 0; i < 2000; i++) t!.send(ref, { type: 'log', value: i });
    assert.deepEqual(await t!.ask(ref, { type: 'dump' }, { timeoutMs: 10_000 }), Array.from({ length: 2000 }, (_, i) => i));
  });

  it('answers asks across nodes with the remote error classes', async () => {
    await assert.rejects(t!.ask(new TaskRef('nowhere', 'counter'), { type: 'get' }), (err: unknown) => err instanceof UnknownTaskError && err.taskId === 'nowhere');
    const ref = t!.spawn(counter, { id: 'crashy', affinity: { require: { kinds: ['fpga'] } } });
    await assert.rejects(t!.ask(ref, { type: 'crash' }), (err: unknown) => isGodwitError(err) && err.code === 'GODWIT_ERR_TASK_CRASHED');
  });

  it('shows the whole cluster on the RMS\'s debug socket', async () => {
    const ref = t!.spawn(counter, { id: 'visible', affinity: { require: { kinds: ['gpu'] } } });
    await t!.ask(ref, { type: 'get' });
    const client = await connectDebugSocket(rms!.debugUrl!, { token: DEBUG_TOKEN });
    try {
      const { tasks } = (await client.request('tasks')) as { tasks: Array<{ id: string; node: string; resource: string }> };
      assert.deepEqual(
        tasks.filter((x) => x.id === 'visible').map((x) => [x.node, x.resource]),
        [['a', 'a/gpu-0']],
      );
      const { resources } = (await client.request('resources')) as { resources: Array<{ id: string; node: string }> };
      assert.deepEqual(resources.map((r) => `${r.node}:${r.id}`).sort(), ['a:a/gpu-0', 'b:b/fpga-0', 'rms:rms/cpu-0']);
    } finally {
      await client.close();
    }
  });

  it('refuses a node with the wrong secret', async () => {
    const intruder = createRuntime({ name: 'intruder', join: rms!.url, auth: { secret: 'not-the-secret' }, devices: [], logger: { level: 'silent' } });
    await assert.rejects(intruder.ready, (err: unknown) => err instanceof AuthError);
    await intruder.shutdown();
    assert.ok(!t!.nodes().some((n) => n.node === 'intruder'));
  });

  it('closes only the offending link on garbage bytes, an oversized frame or a broken detached tail', async () => {
    const frame = (...envs: Envelope[]) => {
      const encoded = envs.map((e) => encodeEnvelope(e));
      return frameOf(encoded, encoded.reduce((n, e) => n + e.length, 0));
    };
    for (const [bad, code] of [
      [[Buffer.from('definitely not cbor \xff\xff', 'latin1')], 1007],
      [[Buffer.alloc(17 * 2 ** 20, 1)], 1009],
      // A tail announced with no envelope before it to take it.
      [[frame([Env.tail, 5])], 4400],
      // A tail of another length than announced.
      [[frame([Env.control, 'noop', { body: new Uint8Array(0) }], [Env.tail, 5]), Buffer.alloc(3, 1)], 1007],
    ] as const) {
      const socket = await connect(a!.url, { maxPayloadBytes: 64 * 2 ** 20 });
      const frames: Buffer[] = [];
      let wake: () => void = () => {};
      socket.onMessage((data) => {
        frames.push(data);
        wake();
      });
      const closed = new Promise<number>((resolve) => socket.onClose((c: number) => resolve(c)));
      const next = async () => {
        while (frames.length === 0) await new Promise<void>((r) => (wake = r));
        return frames.shift()!;
      };
      const challenge = decodeFrame(await next());
      assert.ok(challenge.ok);
      const [, , serverId, nonceS] = challenge.envelopes[0] as [number, string, string, Uint8Array];
      assert.equal(serverId, 'a');
      const nonceC = nonce();
      const auth = encodeEnvelope([Env.hello, 'auth', 'tester', nonceC, clientProof(SECRET, nonceS, 'tester', nonceC), {}]);
      socket.send(frameOf([auth], auth.length));
      await next(); // welcome
      for (const message of bad) socket.send(message);
      assert.equal(await closed, code);
    }
    const ref = t!.spawn(counter, { id: 'still-served', affinity: { require: { kinds: ['gpu'] } } });
    t!.send(ref, { type: 'inc' });
    assert.equal(await t!.ask(ref, { type: 'get' }), 1);
  });

  it('fails asks to a killed node at once, then re-places its tasks on the survivors from their snapshots', async () => {
    const survivor = t!.spawn(counter, { id: 'survivor', input: 100, affinity: { prefer: [{ kind: 'fpga', weight: 10 }] } });
    const held = t!.spawn(holder, { id: 'held', affinity: { require: { kinds: ['fpga'] } } });
    for (let i = 0; i < 5; i++) t!.send(survivor, { type: 'inc' });
    assert.equal(await t!.ask(survivor, { type: 'get' }), 105);
    const pending = t!.ask(held, 'hold', { timeoutMs: 30_000 });
    const killedAt = performance.now();
    const down = nextEvent(t!, 'node.down', (e) => e.node === 'b');
    const failed = assert.rejects(pending, (err: unknown) => err instanceof NodeDownError && err.node === 'b');
    await stopNode(b, 'SIGKILL');
    await failed;
    const failedAfterMs = performance.now() - killedAt;
    assert.ok(failedAfterMs < FAILURE_TIMEOUT_MS, `the pending ask failed after ${failedAfterMs} ms, not at once`);
    await down;
    const value = await askUntilAnswered(t!, survivor, { type: 'get' }, FAILURE_TIMEOUT_MS + REPLACE_BOUND_MS);
    const answeredAfterMs = performance.now() - killedAt;
    // Restored from a shipped snapshot: the one after init (100) or a later one (105), never anything else.
    assert.ok(value === 100 || value === 105, `restored state ${String(value)}`);
    assert.ok(answeredAfterMs < FAILURE_TIMEOUT_MS + REPLACE_BOUND_MS, `answered ${answeredAfterMs} ms after the kill`);
    assert.ok(!t!.nodes().some((n) => n.node === 'b'));
  });

  it('keeps serving while the RMS is down, and rebuilds the directory from the nodes when it returns', async () => {
    const ref = t!.spawn(counter, { id: 'through-rms-restart', input: 7, affinity: { require: { kinds: ['gpu'] } } });
    assert.equal(await t!.ask(ref, { type: 'get' }), 7);
    const port = new URL(rms!.url).port;
    await stopNode(rms, 'SIGKILL');
    t!.send(ref, { type: 'inc' });
    assert.equal(await t!.ask(ref, { type: 'get' }), 8, 'the RMS is not on the data path');
    const rejoined = nextEvent(t!, 'node.joined', (e) => e.node === 'rms');
    rms = await startNode(['server', '--port', port, '--name', 'rms', '--devices', 'cpu']);
    await rejoined;
    // A node that never saw the task finds it through the rebuilt directory.
    const u = createRuntime({ name: 'u', join: rms.url, auth: { secret: SECRET }, devices: [], logger: { level: 'silent' } });
    try {
      await u.ready;
      assert.equal(await askUntilAnswered(u, new TaskRef('through-rms-restart', 'counter'), { type: 'get' }, 5000), 8);
    } finally {
      await u.shutdown();
    }
  });
});
