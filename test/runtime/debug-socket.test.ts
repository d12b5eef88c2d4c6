import assert from 'node:assert/strict';
import { defineTask, TaskRef, UnknownResourceError, type Runtime } from '../../src/index.js';
import { AuthError } from '../../src/errors.js';
import { connectDebugSocket, type DebugClient, type DebugClientOptions } from '../../src/runtime/debug-client.js';
import { DebugErrorCodes, DebugRequestError, type WireEvent } from '../../src/runtime/debug-protocol.js';
import { type DebugServer, type DebugServerOptions, startDebugServer } from '../../src/runtime/debug-socket.js';
import { createLocalDebugSource, type DebugSource, type LocalDebugSource, type TreeNode } from '../../src/runtime/debug-source.js';
import { RuntimeImpl } from '../../src/runtime/runtime.js';
import { connect, type Socket } from '../../src/runtime/ws-adapter.js';
import { counter } from '../fixtures.js';
import { quietRuntime } from '../helpers.js';

const TOKEN = 'test-token-0123456789';

interface Raw {
  socket: Socket;
  send(frame: unknown): void;
  next(): Promise<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
}

describe('debug socket', () => {
  let rt: Runtime;
  let source: LocalDebugSource;
  let server: DebugServer | undefined;
  let clients: Array<{ close(): Promise<void> }> = [];

  async function start(options: Partial<DebugServerOptions> = {}, src: DebugSource = source): Promise<string> {
    server = await startDebugServer(src, { token: TOKEN, ...options });
    return server.url;
  }

  async function client(options: Partial<DebugClientOptions> = {}): Promise<DebugClient> {
    const c = await connectDebugSocket(server!.url, { token: TOKEN, ...options });
    clients.push(c);
    return c;
  }

  /** A bare socket: frames parsed as they come, for what the client hides (close codes, malformed frames). */
  async function raw(headers?: Record<string, string>): Promise<Raw> {
    const socket = await connect(server!.url, { maxPayloadBytes: 1 << 24, ...(headers ? { headers } : {}) });
    const frames: Array<Record<string, unknown>> = [];
    const waiting: Array<(f: Record<string, unknown>) => void> = [];
    socket.onMessage((data) => {
      const f = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      const w = waiting.shift();
      if (w) w(f);
      else frames.push(f);
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.onClose((code, reason) => resolve({ code, reason })));
    clients.push({ close: async () => (socket.isOpen && socket.close(1000, 'done'), void (await closed)) });
    return {
      socket,
      send: (frame) => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
      next: () => new Promise((resolve) => (frames.length > 0 ? resolve(frames.shift()!) : waiting.push(resolve))),
      closed,
    };
  }

  const bearer = { authorization: `Bearer ${TOKEN}` };

  async function rejects(p: Promise<unknown>, code: string): Promise<DebugRequestError> {
    const err = await p.then(
      () => assert.fail(`expected ${code}`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DebugRequestError, String(err));
    assert.equal(err.debugCode, code);
    return err;
  }

  beforeEach(() => {
    rt = quietRuntime({ name: 'n1' });
    source = createLocalDebugSource(rt, { deadLetterHistory: 3 });
  });

  afterEach(async () => {
    for (const c of clients) await c.close();
    clients = [];
    await server?.close();
    server = undefined;
    source.close();
    await rt.shutdown();
  });

  describe('authentication', () => {
    it('closes with 4401 when the first message is not auth and no header was sent', async () => {
      await start();
      const r = await raw();
      r.send({ id: 1, op: 'tasks' });
      assert.deepEqual(await r.closed, { code: 4401, reason: 'authentication required' });
    });

    it('closes with 4401 on a wrong bearer token, and the client reports an AuthError', async () => {
      await start();
      const r = await raw({ authorization: 'Bearer nope' });
      assert.deepEqual(await r.closed, { code: 4401, reason: 'invalid token' });
      const c = await client({ token: 'nope' });
      await assert.rejects(c.request('tasks'), (e: unknown) => e instanceof AuthError && /invalid token/.test(e.message));
    });

    it('closes with 4401 on a wrong token in the auth message', async () => {
      await start();
      await assert.rejects(client({ token: 'wrong', auth: 'message' }), AuthError);
    });

    it('closes with 4401 when no auth arrives in time', async () => {
      await start({ authTimeoutMs: 20 });
      const r = await raw();
      assert.deepEqual(await r.closed, { code: 4401, reason: 'authentication timed out' });
    });

    it('accepts the token by header or by auth message, read-only by default', async () => {
      await start();
      const m = await client({ auth: 'message' });
      assert.deepEqual(m.hello, { node: 'n1', admin: false });
      const h = await client();
      assert.deepEqual(await h.request('auth', { token: TOKEN }), { node: 'n1', admin: false });
    });
  });

  describe('read ops', () => {
    const family = defineTask<TaskRef[], 'kids'>({
      name: 'family',
      init: (_i, ctx) => [ctx.spawnChild(counter, { id: 'a' })],
      receive: (kids, _m, ctx) => (ctx.reply(kids), kids),
    });

    it('tasks, resources and tree match the runtime', async () => {
      const p = rt.spawn(family, { id: 'p', affinity: { require: { kinds: ['gpu'] } } });
      const c1 = rt.spawn(counter, { id: 'c1', affinity: { require: { kinds: ['cpu'] } } });
      rt.send(c1, { type: 'inc' });
      await rt.ask(c1, { type: 'get' });
      await rt.ask(p, 'kids');
      await start();
      const c = await client();

      const { tasks } = await c.request<{ tasks: Array<Record<string, unknown>> }>('tasks');
      const expected = rt.tasks().map((t) => ({
        id: t.id, task: t.task, parent: t.parent ?? null, path: t.path, node: 'n1', resource: t.resource, kind: t.kind,
        status: t.status, epoch: t.epoch, mailboxDepth: t.mailboxDepth, restarts: t.restarts, processed: t.processed, stateBytes: t.stateBytes,
        ...(t.affinity ? { affinity: t.affinity } : {}),
      }));
      assert.deepEqual(tasks, expected);
      assert.ok((tasks.find((t) => t['id'] === 'c1')?.['stateBytes'] as number) > 0, 'the size of the last snapshot, never its contents');
      assert.equal(tasks.find((t) => t['id'] === 'c1')?.['processed'], 2);
      assert.deepEqual(tasks.find((t) => t['id'] === 'p')?.['affinity'], { require: { kinds: ['gpu'] } });

      const { resources } = await c.request<{ resources: Array<Record<string, unknown>> }>('resources');
      assert.deepEqual(resources.map((r) => [r['id'], r['kind'], r['status'], r['tasks'], r['node']]), rt.resources().map((r) => [r.id, r.kind, r.status, r.tasks, 'n1']));

      const tree = await c.request<{ nodes: TreeNode[]; state: string }>('tree');
      assert.equal(tree.state, 'omitted');
      assert.equal(tree.nodes.length, 1);
      const [node] = tree.nodes;
      assert.equal(node?.node, 'n1');
      const byId = new Map(node?.resources.map((r) => [r.id, r]));
      assert.deepEqual(byId.get('cpu-0')?.tasks.map((t) => t.id), ['c1']);
      const [parent] = byId.get('gpu-0')?.tasks ?? [];
      assert.equal(parent?.id, 'p');
      assert.deepEqual(parent?.children.map((t) => [t.id, t.parent, t.resource]), [['p/a', 'p', 'gpu-0']]);
    });

    it('never shows task state, and refuses includeState on a read-only socket', async () => {
      const c1 = rt.spawn(counter, { id: 'c1' });
      rt.send(c1, { type: 'log', value: 987654321 });
      await rt.ask(c1, { type: 'dump' });
      await start();
      const c = await client();
      for (const op of ['tree', 'tasks', 'resources']) assert.doesNotMatch(JSON.stringify(await c.request(op)), /987654321|"state":\{|"log"/);
      await rejects(c.request('tree', { includeState: true }), DebugErrorCodes.FORBIDDEN);
    });

    it('says when the source cannot read state, and includes it when it can (admin only)', async () => {
      rt.spawn(counter, { id: 'c1' });
      await start({ admin: true }, { ...source, taskState: (id) => ({ of: id }) });
      const c = await client();
      const r = await c.request<{ nodes: TreeNode[]; state: string }>('tree', { includeState: true });
      assert.equal(r.state, 'included');
      assert.deepEqual(r.nodes[0]?.resources.flatMap((x) => x.tasks).map((t) => t.state), [{ of: 'c1' }]);
      await server!.close();
      await start({ admin: true });
      const d = await client();
      assert.deepEqual(await d.request('tree', { includeState: true }), { nodes: (await d.request<{ nodes: unknown }>('tree')).nodes, state: 'unsupported', reason: 'this node cannot read task state' });
    });

    it('answers migrations honestly: not supported, empty', async () => {
      await start();
      const c = await client();
      assert.deepEqual(await c.request('migrations'), { supported: false, reason: 'live migration is not available on this node yet', migrations: [] });
    });

    it('keeps a bounded history of dead letters, without their contents', async () => {
      await start();
      const c = await client();
      for (let i = 0; i < 4; i++) rt.send(new TaskRef(`ghost-${i}`, 'counter'), { type: 'inc', secret: 'hunter2' });
      const r = await c.request<{ total: number; recent: Array<Record<string, unknown>> }>('dead-letters');
      assert.equal(r.total, 4);
      assert.deepEqual(r.recent.map((d) => [d['taskId'], d['reason'], d['messageType'], d['node']]), [1, 2, 3].map((i) => [`ghost-${i}`, 'unknown-task', 'inc', 'n1']));
      assert.doesNotMatch(JSON.stringify(r), /hunter2/);
      assert.equal((await c.request<{ recent: unknown[] }>('dead-letters', { limit: 1 })).recent.length, 1);
      await rejects(c.request('dead-letters', { limit: 0 }), DebugErrorCodes.INVALID_ARGUMENT);
    });
  });

  describe('subscribe', () => {
    it('pushes events until unsubscribe, with err as { name, code, message } and no message bodies', async () => {
      await start();
      const c = await client();
      const events: WireEvent[] = [];
      let wake: (() => void) | undefined;
      c.onEvent((e) => (events.push(e), wake?.()));
      const until = (pred: () => boolean) => new Promise<void>((resolve) => (pred() ? resolve() : (wake = () => pred() && resolve())));
      assert.deepEqual(await c.request('subscribe'), { subscribed: true, types: 'all' });
      const ref = rt.spawn(counter, { id: 'k' });
      await until(() => events.some((e) => e.type === 'task.spawned'));
      assert.deepEqual(events.find((e) => e.type === 'task.spawned'), { node: 'n1', type: 'task.spawned', timeMs: events[0]?.timeMs, taskId: 'k', task: 'counter', resource: 'cpu-0' });
      rt.send(ref, { type: 'crash', reason: 'boom' });
      await until(() => events.some((e) => e.type === 'task.crashed'));
      const crashed = events.find((e) => e.type === 'task.crashed');
      assert.deepEqual(crashed?.['err'], { name: 'Error', message: 'boom' });
      rt.send(new TaskRef('ghost', 'counter'), { type: 'inc', secret: 'hunter2' });
      await until(() => events.some((e) => e.type === 'message.dead-lettered'));
      const dl = events.find((e) => e.type === 'message.dead-lettered');
      assert.equal(dl?.['messageType'], 'inc');
      assert.equal(dl?.['message'], undefined);

      assert.deepEqual(await c.request('unsubscribe'), { unsubscribed: true });
      const seen = events.length;
      rt.spawn(counter, { id: 'after' });
      await c.request('tasks'); // events are pushed synchronously, so any would have come before this answer
      assert.equal(events.length, seen);
    });

    it('filters by args.types', async () => {
      await start();
      const c = await client();
      const got = new Promise<WireEvent>((resolve) => c.onEvent(resolve));
      await c.request('subscribe', { types: ['task.stopped'] });
      const ref = rt.spawn(counter, { id: 'k' });
      await rt.stop(ref);
      assert.equal((await got).type, 'task.stopped');
      await rejects(c.request('subscribe', { types: 'task.stopped' }), DebugErrorCodes.INVALID_ARGUMENT);
    });
  });

  describe('malformed requests', () => {
    it('answers bad JSON, bad shapes and unknown ops with error responses and stays open', async () => {
      await start();
      const r = await raw(bearer);
      r.send('{not json');
      assert.deepEqual(await r.next(), { id: null, ok: false, error: { code: DebugErrorCodes.BAD_REQUEST, message: 'frame is not valid JSON' } });
      r.send({ id: 2, op: 'tasks', args: [1] });
      assert.deepEqual(await r.next(), { id: 2, ok: false, error: { code: DebugErrorCodes.BAD_REQUEST, message: 'request args must be an object' } });
      r.send({ id: 'x', op: 'frobnicate' });
      const unknown = await r.next();
      assert.equal((unknown['error'] as { code: string }).code, DebugErrorCodes.UNKNOWN_OP);
      assert.equal(unknown['id'], 'x');
      r.send({ id: 3, op: 'tasks' });
      assert.deepEqual(await r.next(), { id: 3, ok: true, result: { node: 'n1', tasks: [] } });
    });

    it('closes on a binary frame (1003) and on an oversized frame (1009)', async () => {
      await start({ maxPayloadBytes: 1024 });
      const bin = await raw(bearer);
      bin.socket.send(new Uint8Array([1, 2, 3]));
      assert.equal((await bin.closed).code, 1003);
      const big = await raw(bearer);
      big.send({ id: 1, op: 'tasks', args: { pad: 'x'.repeat(2048) } });
      assert.equal((await big.closed).code, 1009);
    });
  });

  describe('admin ops', () => {
    it('refuses every admin op on a read-only socket and stays usable', async () => {
      let drained = 0;
      await start({}, { ...source, drain: async () => void drained++ });
      const c = await client();
      for (const op of ['migrate', 'drain', 'controller.suspend', 'controller.resume']) {
        await rejects(c.request(op, { task: 'x', resource: 'cpu-0' }), DebugErrorCodes.FORBIDDEN);
      }
      assert.equal(drained, 0);
      assert.deepEqual(await c.request('migrations'), await c.request('migrations'));
    });

    it('answers not supported for migrate and for hooks the source lacks', async () => {
      await start({ admin: true });
      const c = await client();
      await rejects(c.request('migrate', { task: 'x' }), DebugErrorCodes.NOT_SUPPORTED);
      await rejects(c.request('drain', { resource: 'cpu-0' }), DebugErrorCodes.NOT_SUPPORTED);
      await rejects(c.request('controller.suspend'), DebugErrorCodes.NOT_SUPPORTED);
      await rejects(c.request('drain'), DebugErrorCodes.INVALID_ARGUMENT);
    });

    it('runs the drain and controller hooks a source provides, passing their errors on', async () => {
      const calls: string[] = [];
      await start(
        { admin: true },
        {
          ...source,
          drain: async (resource) => {
            if (resource !== 'cpu-0') throw new UnknownResourceError(resource);
            calls.push(`drain ${resource}`);
            return { moved: 2 };
          },
          suspendController: () => void calls.push('suspend'),
        },
      );
      const c = await client();
      assert.deepEqual(await c.request('drain', { resource: 'cpu-0' }), { resource: 'cpu-0', result: { moved: 2 } });
      await rejects(c.request('drain', { resource: 'tpu-9' }), 'GODWIT_ERR_UNKNOWN_RESOURCE');
      assert.deepEqual(await c.request('controller.suspend'), { suspended: true, result: null });
      assert.deepEqual(calls, ['drain cpu-0', 'suspend']);
    });
  });

  describe('lifecycle', () => {
    it('close() disconnects clients; the local source stops observing when closed', async () => {
      await start();
      const c = await client();
      await c.request('subscribe');
      assert.equal((rt as RuntimeImpl).observer.active, true);
      await server!.close();
      assert.ok([1001, 1006].includes((await c.closed).code));
      source.close();
      assert.equal((rt as RuntimeImpl).observer.active, false);
    });

    it('validates its options', () => {
      assert.throws(() => startDebugServer(source, { token: '' }), { code: 'GODWIT_ERR_INVALID_ARGUMENT' });
      assert.throws(() => startDebugServer(source, { token: TOKEN, port: -1 }), { code: 'GODWIT_ERR_INVALID_ARGUMENT' });
      assert.throws(() => createLocalDebugSource(rt, { deadLetterHistory: 0 }), { code: 'GODWIT_ERR_INVALID_ARGUMENT' });
    });
  });

  it('the local source stops observing when the runtime shuts down', async () => {
    const own = quietRuntime();
    createLocalDebugSource(own);
    assert.equal((own as RuntimeImpl).observer.active, true);
    await own.shutdown();
    assert.equal((own as RuntimeImpl).observer.active, false);
  });
});
