import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runNode } from '../run-node.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/debug-node.js', import.meta.url));
const TOKEN = 'inspect-test-token';

/** The environment without GODWIT_DEBUG_*, so only what a test passes counts. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['GODWIT_DEBUG_URL'];
  delete env['GODWIT_DEBUG_TOKEN'];
  return { ...env, ...extra };
}

interface NodeProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the debug-node fixture and resolves with the URL it prints, within `timeoutMs`. */
function startNode(args: string[], timeoutMs = 15_000): Promise<NodeProcess> {
  const child = spawn(process.execPath, [fixture, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: cleanEnv() });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      void exited.then(() => reject(new Error(`${why}\n${stderr}`)));
    };
    const timer = setTimeout(() => fail(`debug-node printed no URL within ${timeoutMs} ms`), timeoutMs);
    child.on('error', (err) => fail(err.message));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      const { url } = JSON.parse(stdout.slice(0, nl)) as { url: string };
      resolve({ child, url, exited });
    });
    void exited.then(({ code }) => {
      if (!stdout.includes('\n')) fail(`debug-node exited (${code}) before printing its URL`);
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. */
async function stopNode(node: NodeProcess, timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  node.child.kill('SIGTERM');
  const timer = setTimeout(() => node.child.kill('SIGKILL'), timeoutMs);
  try {
    return await node.exited;
  } finally {
    clearTimeout(timer);
  }
}

describe('godwit inspect', function () {
  this.timeout(60_000);
  let node: NodeProcess | undefined;
  const inspect = (...args: string[]) => runNode([cli, 'inspect', ...args], 30_000, cleanEnv());

  before(async () => {
    node = await startNode(['--token', TOKEN]);
    assert.match(node.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
  });

  after(async () => {
    if (!node) return;
    const { code, signal } = await stopNode(node);
    node = undefined;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'debug-node should shut down cleanly on SIGTERM');
  });

  it('tasks --json prints exactly one JSON object with the tasks', async () => {
    const { code, stdout, stderr } = await inspect('tasks', '--url', node!.url, '--token', TOKEN, '--json');
    assert.equal(code, 0, stderr);
    const r = JSON.parse(stdout) as { node: string; tasks: Array<Record<string, unknown>> };
    assert.equal(r.node, 'debug-node');
    const byId = new Map(r.tasks.map((t) => [t['id'], t]));
    assert.deepEqual([byId.get('counter-a')?.['resource'], byId.get('counter-b')?.['resource']], ['cpu-0', 'gpu-0']);
    assert.equal(byId.get('counter-a')?.['processed'], 2);
    assert.equal(JSON.stringify(r).includes('"state"'), false);
  });

  it('tree prints an indented tree by default', async () => {
    const { code, stdout, stderr } = await inspect('tree', '--url', node!.url, '--token', TOKEN);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^node debug-node$/m);
    assert.match(stdout, /^├── cpu-0  cpu  up$/m);
    assert.match(stdout, /^│   [├└]── counter-a  counter  running  epoch \d+  mailbox 0  restarts 0  processed 2  state \d+ B$/m);
    assert.match(stdout, /^└── gpu-0  gpu  up$/m);
    assert.match(stdout, /^    [├└]── counter-b  counter /m);
  });

  it('reads --url and --token from GODWIT_DEBUG_URL and GODWIT_DEBUG_TOKEN; resources as a table', async () => {
    const env = cleanEnv({ GODWIT_DEBUG_URL: node!.url, GODWIT_DEBUG_TOKEN: TOKEN });
    const { code, stdout, stderr } = await runNode([cli, 'inspect', 'resources'], 30_000, env);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^RESOURCE\s+NODE\s+KIND\s+STATUS/m);
    assert.match(stdout, /^cpu-0\s+debug-node\s+cpu\s+up\s+\d+/m);
    // Predicted performance of the task that declares its cost, where it runs (*) and on the gpu.
    assert.match(stdout, /^TASK\s+RESOURCE\s+KIND\s+UTIL P50\/P90 \(now\)\s+SERVICE MS/m);
    assert.match(stdout, /^profiled-a\s+cpu-0 \*\s+cpu\s+\d+%\/\d+%\s+4\.0\s+/m);
    assert.match(stdout, /^profiled-a\s+gpu-0\s+gpu\s+\d+%\/\d+%\s+1\.0\s+/m);
  });

  it('migrations and dead-letters say what the node has', async () => {
    const m = await inspect('migrations', '--url', node!.url, '--token', TOKEN, '--json');
    assert.equal(m.code, 0, m.stderr);
    assert.equal((JSON.parse(m.stdout) as { supported: boolean }).supported, false);
    const d = await inspect('dead-letters', '--url', node!.url, '--token', TOKEN);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^0 dead letters in total, 0 shown$/m);
  });

  it('events --count 1 --json prints one JSON object with the events', async () => {
    const { code, stdout, stderr } = await inspect('events', '--url', node!.url, '--token', TOKEN, '--count', '1', '--json');
    assert.equal(code, 0, stderr);
    const { events } = JSON.parse(stdout) as { events: Array<Record<string, unknown>> };
    assert.equal(events.length, 1);
    assert.equal(events[0]?.['type'], 'task.spawned');
    assert.equal(events[0]?.['node'], 'debug-node');
  });

  it('a wrong token: one line on stderr, nothing on stdout, exit code 1', async () => {
    const { code, stdout, stderr } = await inspect('tasks', '--url', node!.url, '--token', 'wrong', '--json');
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /^godwit: authentication with ws:\/\/\S+ failed: invalid token\n$/);
    assert.doesNotMatch(stderr, new RegExp(TOKEN));
  });

  it('an unreachable node: exit code 1 with a one-line error', async () => {
    const { code, stderr } = await inspect('tasks', '--url', 'ws://127.0.0.1:1', '--token', TOKEN);
    assert.equal(code, 1);
    assert.match(stderr, /^godwit: node ws:\/\/127\.0\.0\.1:1 is unreachable: .*ECONNREFUSED.*\n$/);
  });

  it('usage errors exit with code 2', async () => {
    assert.equal((await inspect('tasks', '--url', node!.url)).code, 2);
    assert.equal((await inspect('nope', '--url', node!.url, '--token', TOKEN)).code, 2);
    assert.equal((await inspect('events', '--url', node!.url, '--token', TOKEN, '--count', '0')).code, 2);
  });
});
