import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '../run-node.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('godwit simulate', () => {
  it('prints one JSON object with per-day, per-policy metrics and writes the plot', async () => {
    const plot = path.join(os.tmpdir(), `godwit-sim-${process.pid}.svg`);
    try {
      const { code, stdout, stderr } = await runNode([cli, 'simulate', '--setup', 'synthetic', '--hosts', '12', '--policies', 'dvfs,thr-mmt-0.8', '--plot', plot, '--json']);
      assert.equal(code, 0, stderr);
      const out = JSON.parse(stdout) as { setup: string; days: Record<string, Record<string, Record<string, number>>>; median: Record<string, Record<string, number>> };
      assert.equal(out.setup, 'synthetic');
      const day = out.days['synthetic-12'];
      assert.ok(day);
      for (const p of ['dvfs', 'thr-mmt-0.8']) {
        for (const f of ['energyKWh', 'slatah', 'pdm', 'slav', 'esv', 'migrations']) assert.equal(typeof day[p]?.[f], 'number', `${p}.${f}`);
      }
      assert.equal(day['dvfs']?.['migrations'], 0);
      assert.equal(out.median['dvfs']?.['energyKWh'], day['dvfs']?.['energyKWh']);
      assert.match(await readFile(plot, 'utf8'), /^<svg/);
    } finally {
      await rm(plot, { force: true });
    }
  });

  it('refuses an unknown policy', async () => {
    const { code, stderr } = await runNode([cli, 'simulate', '--setup', 'synthetic', '--hosts', '4', '--policies', 'best-ever']);
    assert.equal(code, 1);
    assert.match(stderr, /unknown policy/);
  });
});
