/**
 * The demo's live terminal view (stdout a TTY, not `--json`): resources with their load now, the
 * forecast at the controller's horizon and temperature; the tasks on each; migrations with a
 * progress bar and their pause; incidents; the client's counters. Redrawn in place with ANSI
 * cursor movement (no dependency). Without a TTY the demo prints `progressLine`s instead.
 */
import type { DebugResource, DebugTask } from '../index.js';
import type { LoadStats } from './demo-client.js';
import type { Output } from './output.js';

export interface ViewMigration {
  task: string;
  from: string;
  to: string;
  startedAtS: number;
  endedAtS?: number;
  outcome?: 'committed' | 'aborted';
  pauseMs?: number;
  why?: string;
}

export interface ViewState {
  policy: string;
  elapsedS: number;
  seconds: number;
  resources: readonly DebugResource[];
  tasks: readonly DebugTask[];
  forecast(resource: string): number | undefined;
  stats: LoadStats;
  /** p99 of the last second, ms. */
  recentP99Ms: number;
  sloMs: number;
  migrations: readonly ViewMigration[];
  notes: readonly string[];
}

const ESC = '\x1b[';
const color = (code: number, s: string) => `${ESC}${code}m${s}${ESC}0m`;

function bar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return '#'.repeat(full) + '.'.repeat(width - full);
}

function loadCell(u: number | undefined): string {
  if (u === undefined) return '-'.padEnd(15);
  const text = `${bar(u, 10)} ${u.toFixed(2)}`;
  return u > 0.9 ? color(31, text) : u > 0.75 ? color(33, text) : text;
}

export function renderFrame(s: ViewState): string[] {
  const q = s.stats;
  const lines: string[] = [];
  lines.push(`${color(1, 'godwit demo')}  policy ${color(1, s.policy)}  t ${s.elapsedS.toFixed(1)} / ${s.seconds} s  ${bar(s.elapsedS / s.seconds, 20)}`);
  lines.push(
    `requests ${q.sent} sent, ${q.answered} answered, ${q.failed} failed, ${q.lost} lost, ${q.inFlight} in flight   p99 (1 s) ${s.recentP99Ms.toFixed(1)} ms   SLO ${s.sloMs} ms: ${q.sloViolations > 0 ? color(31, String(q.sloViolations)) : '0'} violations`,
  );
  lines.push('');
  lines.push(`${'resource'.padEnd(10)} ${'kind'.padEnd(5)} ${'load now'.padEnd(15)} ${'forecast'.padEnd(15)} ${'temp'.padStart(6)}  tasks`);
  for (const r of [...s.resources].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const m = r.metrics ?? {};
    const u = typeof m['utilization'] === 'number' ? m['utilization'] : undefined;
    const t = typeof m['temperatureC'] === 'number' ? m['temperatureC'] : undefined;
    const temp = t === undefined ? '   -  ' : `${t.toFixed(0).padStart(4)} C`;
    const tasks = s.tasks.filter((x) => x.resource === r.id && x.parent === null).map((x) => x.id);
    const failed = r.status === 'failed';
    const row = `${r.id.padEnd(10)} ${r.kind.padEnd(5)} ${failed ? color(31, 'FAILED'.padEnd(15)) : loadCell(u)} ${failed ? ''.padEnd(15) : loadCell(s.forecast(r.id))} ${t !== undefined && t > 85 ? color(31, temp) : temp}  ${tasks.join(' ')}`;
    lines.push(row);
  }
  lines.push('');
  lines.push('migrations');
  const recent = s.migrations.slice(-6);
  if (recent.length === 0) lines.push('  none yet');
  for (const m of recent) {
    const done = m.outcome !== undefined;
    const progress = done ? 1 : Math.min(0.9, (s.elapsedS - m.startedAtS) / 0.5);
    const state = m.outcome === 'committed' ? `committed, pause ${m.pauseMs?.toFixed(2)} ms` : m.outcome === 'aborted' ? color(31, 'aborted') : 'copying state';
    lines.push(`  ${m.startedAtS.toFixed(1).padStart(5)} s  ${m.task.padEnd(12)} ${m.from} -> ${m.to.padEnd(9)} [${bar(progress, 12)}] ${state}${m.why ? `  (${m.why})` : ''}`);
  }
  lines.push('');
  lines.push('incidents');
  if (s.notes.length === 0) lines.push('  none yet');
  for (const n of s.notes.slice(-4)) lines.push(`  ${n}`);
  return lines;
}

/** A plain line for logs and pipes, about once a second. */
export function progressLine(s: ViewState): string {
  const q = s.stats;
  const hot = s.resources
    .map((r) => ({ id: r.id, u: r.metrics?.['utilization'] }))
    .filter((r): r is { id: string; u: number } => typeof r.u === 'number' && r.u > 0.75)
    .map((r) => `${r.id} ${r.u.toFixed(2)}`);
  return `t=${s.elapsedS.toFixed(1)}s sent=${q.sent} answered=${q.answered} failed=${q.failed} lost=${q.lost} p99(1s)=${s.recentP99Ms.toFixed(1)}ms slo-violations=${q.sloViolations} migrations=${s.migrations.filter((m) => m.outcome === 'committed').length}${hot.length ? ` hot: ${hot.join(', ')}` : ''}`;
}

/** Redraws a block of lines in place on a terminal. */
export class LiveView {
  private drawn = 0;

  constructor(private readonly out: Output) {
    out.raw(`${ESC}?25l`);
  }

  draw(lines: readonly string[]): void {
    let text = this.drawn > 0 ? `${ESC}${this.drawn}A\r` : '';
    for (const line of lines) text += `${ESC}2K${line}\n`;
    text += `${ESC}J`;
    this.out.raw(text);
    this.drawn = lines.length;
  }

  close(): void {
    this.out.raw(`${ESC}?25h`);
  }
}
