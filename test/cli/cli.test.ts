import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runNode } from '../run-node.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('godwit CLI', () => {
  describe('--help', () => {
    it('lists the commands', async () => {
      const { code, stdout } = await runNode([cli, '--help']);
      assert.equal(code, 0);
      for (const c of ['demo', 'bench', 'version']) assert.match(stdout, new RegExp(`^  ${c} `, 'm'));
    });

    it('refuses an unknown command with exit code 2 and the usage on stderr', async () => {
      const { code, stderr, stdout } = await runNode([cli, 'frobnicate']);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.match(stderr, /unknown command frobnicate/);
    });
  });

  describe('bench', () => {
    it('runs the messaging benchmark and reports value, baseline and ratio as JSON', async () => {
      const { code, stdout, stderr } = await runNode([cli, 'bench', 'messaging', '--quick', '--json'], 60_000);
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout) as { bench: string; cpus: number; results: Array<Record<string, number | string>> };
      assert.equal(report.bench, 'messaging');
      assert.ok(report.cpus >= 1);
      const [r] = report.results;
      assert.equal(r?.['unit'], 'msgs/s');
      assert.equal(r?.['baseline'], 'raw nact dispatch');
      assert.ok((r?.['value'] as number) > 0 && (r?.['baselineValue'] as number) > 0);
      assert.equal(r?.['ratio'], Math.round(((r?.['value'] as number) / (r?.['baselineValue'] as number)) * 1000) / 1000);
    });

    it('runs the transport benchmark across two processes and reports throughput and ask latency', async () => {
      const { code, stdout, stderr } = await runNode([cli, 'bench', 'transport', '--quick', '--json'], 60_000);
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout) as { bench: string; results: Array<Record<string, number | string>> };
      assert.equal(report.bench, 'transport');
      assert.deepEqual(
        report.results.map((r) => [r['metric'], r['unit']]),
        [
          ['throughput', 'msgs/s'],
          ['latency', 'ms'],
          ['latency', 'ms'],
        ],
      );
      assert.ok(report.results.every((r) => (r['value'] as number) > 0));
      assert.equal(report.results[1]?.['better'], 'lower');
    });

    it('runs the migration benchmark across two processes and loses no ask', async () => {
      const { code, stdout, stderr } = await runNode([cli, 'bench', 'migration', '--quick', '--json'], 60_000);
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout) as { bench: string; results: Array<Record<string, number | string>> };
      assert.equal(report.bench, 'migration');
      const lost = report.results.find((r) => r['metric'] === 'asks lost');
      assert.equal(lost?.['value'], 0);
      const pause = report.results.find((r) => r['metric'] === 'pause (median)');
      assert.ok((pause?.['value'] as number) >= 0 && (pause?.['baselineValue'] as number) >= 0);
      const p99 = report.results.find((r) => r['metric'] === 'pre-copy pause p99');
      assert.ok((p99?.['value'] as number) >= (pause?.['value'] as number));
      const zeroMask = report.results.find((r) => r['metric'] === 'transfer rate, zero-mask baseline');
      assert.ok((zeroMask?.['baselineValue'] as number) > 0);
    });

    it('names the known benchmarks when given an unknown one', async () => {
      const { code, stderr } = await runNode([cli, 'bench', 'nope']);
      assert.equal(code, 2);
      assert.match(stderr, /unknown benchmark nope \(known: messaging/);
    });
  });
});
