import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { runNode } from '../run-node.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

type Summary = Record<string, any>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function assertShape(s: Summary, policy: string): void {
  assert.equal(s['policy'], policy);
  const q = s['requests'];
  assert.equal(q.lost, 0);
  assert.ok(q.sent > 0);
  assert.equal(q.answered + q.failed + q.lost, q.sent);
  for (const k of ['p50', 'p99']) assert.equal(typeof s['latencyMs'][k], 'number');
  assert.ok(s['latencyMs'].p99 >= s['latencyMs'].p50);
  assert.equal(typeof s['sloViolations'], 'number');
  assert.equal(typeof s['migrations'], 'number');
  assert.ok(s['energyJ'] > 0);
  assert.deepEqual(s['resources'].map((r: { kind: string }) => r.kind).sort(), ['asic', 'cpu', 'cpu', 'cpu', 'fpga', 'gpu']);
}

describe('godwit demo', function () {
  this.timeout(40_000);

  it('--inproc --seconds 3 --json prints one summary object with every request accounted for and none lost', async () => {
    const { code, stdout, stderr } = await runNode([cli, 'demo', '--inproc', '--seconds', '3', '--json'], 30_000);
    assert.equal(code, 0, stderr);
    const s = JSON.parse(stdout) as Summary;
    assertShape(s, 'predictive');
    assert.equal(s['mode'], 'inproc');
    assert.deepEqual(s['processes'].nodes, []);
  });

  it('runs an RMS and three node processes by default, and leaves none of them running', async () => {
    const { code, stdout, stderr } = await runNode([cli, 'demo', '--seconds', '3', '--policy', 'reactive', '--json'], 30_000);
    assert.equal(code, 0, stderr);
    const s = JSON.parse(stdout) as Summary;
    assertShape(s, 'reactive');
    assert.equal(s['mode'], 'processes');
    const pids = s['processes'].nodes.map((n: { pid: number }) => n.pid) as number[];
    assert.equal(pids.length, 3);
    assert.deepEqual(s['resources'].map((r: { node: string }) => r.node).sort(), ['node-a', 'node-a', 'node-b', 'node-b', 'node-c', 'node-c']);
    for (const pid of pids) assert.equal(alive(pid), false, `node process ${pid} still runs`);
  });

  it('on SIGINT stops the load, stops every node process it started and prints the summary so far', async () => {
    const child = spawn(process.execPath, [cli, 'demo', '--seconds', '3', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    const pids = await new Promise<number[]>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /godwit demo: pids (\{.*\})/.exec(stderr);
        if (m) resolve((JSON.parse(m[1]!) as { nodes: Array<{ pid: number }> }).nodes.map((n) => n.pid));
      });
      child.once('exit', () => reject(new Error(`demo exited before it printed its pids\n${stderr}`)));
    });
    assert.equal(pids.length, 3);
    for (const pid of pids) assert.equal(alive(pid), true);
    // Midway through the 3 s run.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 130, stderr);
    const s = JSON.parse(stdout) as Summary;
    assert.equal(s['interrupted'], true);
    assert.equal(s['requests'].lost, 0);
    for (const pid of pids) assert.equal(alive(pid), false, `node process ${pid} still runs after the demo exited`);
  });
});
