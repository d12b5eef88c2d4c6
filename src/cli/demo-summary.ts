/**
 * The demo's summary: what the client saw (requests, latency, SLO violations), what moved and why
 * (each committed migration with its pause and the controller decision behind it: reason and cost
 * terms), what supervision re-placed after the failure, and the energy the devices drew (their
 * power samples integrated over the run). `--json` prints it as one object.
 */
import type { CostTerms, Decision, DebugResource, Runtime } from '../index.js';
import { percentile, type LoadStats } from './demo-client.js';
import type { DemoEvent } from './demo-host.js';
import { table, type Output } from './output.js';

export interface DemoMove {
  task: string;
  from: string;
  to: string;
  atS: number;
  pauseMs: number;
  /** The controller's action and reason (`move`/`predicted-overload`, `evacuate`/`predicted-failure`, ...). */
  action: string | null;
  reason: string | null;
  terms: CostTerms | null;
}

export interface DemoSummary {
  policy: string;
  mode: 'processes' | 'inproc';
  seconds: number;
  interrupted: boolean;
  processes: { demo: number; nodes: Array<{ node: string; pid: number }> };
  requests: { sent: number; answered: number; failed: number; lost: number; failures: Record<string, number> };
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  sloMs: number;
  sloViolations: number;
  sloViolationsByTask: Record<string, number>;
  /** Violations per second of the run, by when the request was sent. */
  sloViolationsBySecond: number[];
  migrations: number;
  migrationsAborted: number;
  /** Every controller decision of the run, counted by `action: reason` (moves and reasons not to move). */
  decisions: Record<string, number>;
  moves: DemoMove[];
  /** Tasks supervision re-placed after their resource failed (not migrations). */
  replacements: number;
  replaced: Array<{ task: string; from: string; to: string; atS: number; fromSnapshot: boolean }>;
  failedResources: string[];
  energyJ: number;
  resources: Array<{ id: string; kind: string; node: string; status: string; tasks: number; energyJ: number }>;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Energy of one resource over [fromMs, toMs] of clock time: its power samples, trapezoids between them. */
export function energyOf(rt: Runtime, resource: string, fromMs: number, toMs: number): number {
  const pts = rt.metrics(resource, { metric: 'powerW', resolution: 'raw', sinceMs: fromMs }).filter((p) => p.timeMs <= toMs);
  let joules = 0;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    if (a.value === null || b.value === null) continue;
    joules += ((a.value + b.value) / 2) * ((b.timeMs - a.timeMs) / 1000);
  }
  return joules;
}

export interface SummaryInput {
  policy: string;
  inproc: boolean;
  seconds: number;
  interrupted: boolean;
  children: ReadonlyArray<{ node: string; pid: number }>;
  stats: LoadStats;
  sloMs: number;
  /** Events with the run time (s) they arrived at. */
  events: ReadonlyArray<{ atS: number; event: DemoEvent }>;
  decisions: readonly Decision[];
  resources: readonly DebugResource[];
  energyJ: Record<string, number>;
}

function decisionFor(decisions: readonly Decision[], task: string, to: string): Decision | undefined {
  return [...decisions].reverse().find((d) => d.executed && d.task === task && d.to === to);
}

function countDecisions(decisions: readonly Decision[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of decisions) counts[`${d.action}: ${d.reason}`] = (counts[`${d.action}: ${d.reason}`] ?? 0) + 1;
  return counts;
}

export function buildSummary(i: SummaryInput): DemoSummary {
  const lat = [...i.stats.latenciesMs].sort((a, b) => a - b);
  const moves: DemoMove[] = [];
  let aborted = 0;
  const replaced: DemoSummary['replaced'] = [];
  const failedResources: string[] = [];
  for (const { atS, event: e } of i.events) {
    if (e.type === 'migration.committed') {
      const d = decisionFor(i.decisions, e.taskId, e.to);
      moves.push({ task: e.taskId, from: e.from, to: e.to, atS: round(atS, 1), pauseMs: round(e.pauseMs, 3), action: d?.action ?? null, reason: d?.reason ?? null, terms: d?.terms ?? null });
    } else if (e.type === 'migration.aborted') aborted++;
    else if (e.type === 'task.replaced') replaced.push({ task: e.taskId, from: e.from, to: e.to, atS: round(atS, 1), fromSnapshot: e.fromSnapshot });
    else if (e.type === 'resource.failed') failedResources.push(e.resource);
  }
  const s = i.stats;
  return {
    policy: i.policy,
    mode: i.inproc ? 'inproc' : 'processes',
    seconds: i.seconds,
    interrupted: i.interrupted,
    processes: { demo: process.pid, nodes: [...i.children] },
    requests: { sent: s.sent, answered: s.answered, failed: s.failed, lost: s.lost, failures: s.failures },
    latencyMs: { p50: round(percentile(lat, 50), 3), p90: round(percentile(lat, 90), 3), p99: round(percentile(lat, 99), 3), max: round(lat.at(-1) ?? 0, 3) },
    sloMs: i.sloMs,
    sloViolations: s.sloViolations,
    sloViolationsByTask: s.sloViolationsByTask,
    sloViolationsBySecond: s.sloViolationsBySecond,
    migrations: moves.length,
    migrationsAborted: aborted,
    decisions: countDecisions(i.decisions),
    moves,
    replacements: replaced.length,
    replaced,
    failedResources,
    energyJ: round(Object.values(i.energyJ).reduce((a, b) => a + b, 0), 1),
    resources: i.resources.map((r) => ({ id: r.id, kind: r.kind, node: r.node, status: r.status, tasks: r.tasks, energyJ: round(i.energyJ[r.id] ?? 0, 1) })),
  };
}

function termsText(t: CostTerms | null): string {
  if (!t) return '';
  return `gain ${round(t.gain, 1)}, degradation ${round(t.degradation, 2)}, transfer ${round(t.transfer, 3)}, disruption ${round(t.disruption, 1)}, affinity ${round(t.affinity, 1)}, total ${round(t.total, 1)}`;
}

export function printSummary(s: DemoSummary, out: Output): void {
  const q = s.requests;
  out.line();
  out.line(`godwit demo summary: policy ${s.policy}, ${s.seconds} s, ${s.mode === 'inproc' ? 'one process' : `RMS + ${s.processes.nodes.length} node processes`}${s.interrupted ? ' (interrupted)' : ''}`);
  const failures = Object.entries(q.failures).map(([c, n]) => `${c} ${n}`).join(', ');
  out.line(`requests: ${q.sent} sent, ${q.answered} answered, ${q.failed} failed${failures ? ` (${failures})` : ''}, ${q.lost} lost`);
  out.line(`latency: p50 ${s.latencyMs.p50} ms, p90 ${s.latencyMs.p90} ms, p99 ${s.latencyMs.p99} ms, max ${s.latencyMs.max} ms`);
  const byTask = Object.entries(s.sloViolationsByTask).sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n}`).join(', ');
  out.line(`SLO (${s.sloMs} ms): ${s.sloViolations} violation(s)${byTask ? ` (${byTask})` : ''}`);
  const seconds = s.sloViolationsBySecond.map((n, i) => (n > 0 ? `${i}s:${n}` : '')).filter(Boolean);
  if (seconds.length > 0) out.line(`  by second of the run: ${seconds.join(' ')}`);
  out.line(`migrations: ${s.migrations} committed${s.migrationsAborted ? `, ${s.migrationsAborted} aborted` : ''}`);
  for (const m of s.moves) {
    out.line(`  ${m.atS.toFixed(1).padStart(5)} s  ${m.task} ${m.from} -> ${m.to}, pause ${m.pauseMs} ms, ${m.action ?? 'move'}: ${m.reason ?? 'not by the controller'}`);
    if (m.terms) out.line(`           cost terms (service-seconds): ${termsText(m.terms)}`);
  }
  const why = Object.entries(s.decisions).map(([k, n]) => `${k} x${n}`).join(', ');
  if (why) out.line(`controller decisions: ${why}`);
  out.line(`supervision: ${s.replacements} re-placement(s) after a resource failure${s.failedResources.length ? ` (failed: ${s.failedResources.join(', ')})` : ''}`);
  for (const r of s.replaced) out.line(`  ${r.atS.toFixed(1).padStart(5)} s  ${r.task} ${r.from} -> ${r.to}${r.fromSnapshot ? ' from its last snapshot' : ' (init again)'}`);
  out.line(`energy: ${s.energyJ} J`);
  out.line();
  out.line(table(['resource', 'kind', 'node', 'status', 'tasks', 'energy J'], s.resources.map((r) => [r.id, r.kind, r.node, r.status, r.tasks, r.energyJ])));
}
