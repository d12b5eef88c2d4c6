/**
 * `godwit inspect [tree|resources|tasks|migrations|events|dead-letters]`: connects to a node's
 * debug socket, runs one op and prints it (tables, an indented tree, event lines) or, with
 * `--json`, exactly one JSON object.
 */
import type { PerformanceView } from '../runtime/debug-performance.js';
import type { Decision } from '../controller/model.js';
import type { FailureRisk } from '../predict/failure.js';
import type { Forecast } from '../predict/resource-predictor.js';
import { AuthError, NodeDownError } from '../errors.js';
import { connectDebugSocket, type DebugClient } from '../runtime/debug-client.js';
import type { WireEvent } from '../runtime/debug-protocol.js';
import type { DebugDeadLetters, DebugResource, DebugTask, TreeNode, TreeTask } from '../runtime/debug-source.js';
import { type Output, table } from './output.js';

export const InspectViews = ['tree', 'resources', 'tasks', 'migrations', 'events', 'dead-letters'] as const;
export type InspectView = (typeof InspectViews)[number];

export interface InspectOptions {
  /** Default: env GODWIT_DEBUG_URL. */
  url?: string | undefined;
  /** Default: env GODWIT_DEBUG_TOKEN. */
  token?: string | undefined;
  /** `events`: stop after this many; `dead-letters`: how many to show (default 100). */
  count?: string | undefined;
  /** `events`: stop after this long. */
  seconds?: string | undefined;
  includeState?: boolean | undefined;
  env?: NodeJS.ProcessEnv;
}

export async function runInspect(view: string | undefined, options: InspectOptions, out: Output): Promise<number> {
  const env = options.env ?? process.env;
  const name = view ?? 'tree';
  if (!(InspectViews as readonly string[]).includes(name)) {
    out.error(`unknown inspect view ${name} (known: ${InspectViews.join(', ')})`);
    return 2;
  }
  const url = options.url ?? env['GODWIT_DEBUG_URL'];
  const token = options.token ?? env['GODWIT_DEBUG_TOKEN'];
  if (!url) return usageError(out, 'no debug socket URL: pass --url ws://HOST:PORT or set GODWIT_DEBUG_URL');
  if (!token) return usageError(out, 'no debug token: pass --token or set GODWIT_DEBUG_TOKEN');
  const count = positive(options.count, '--count', true);
  const seconds = positive(options.seconds, '--seconds', false);
  if (typeof count === 'string') return usageError(out, count);
  if (typeof seconds === 'string') return usageError(out, seconds);

  let client: DebugClient | undefined;
  try {
    client = await connectDebugSocket(url, { token });
    const c = client;
    switch (name as InspectView) {
      case 'tree': {
        const r = await c.request<{ nodes: TreeNode[]; state: string; reason?: string }>('tree', options.includeState ? { includeState: true } : undefined);
        if (out.json) out.result(r);
        else printTree(r, out);
        break;
      }
      case 'tasks': {
        const r = await c.request<{ node: string; tasks: DebugTask[] }>('tasks');
        if (out.json) out.result(r);
        else out.line(r.tasks.length === 0 ? 'no tasks' : tasksTable(r.tasks));
        break;
      }
      case 'resources': {
        const r = await c.request<{ node: string; resources: DebugResource[] }>('resources');
        const f = await c.request<ForecastsView>('forecasts');
        const p = await c.request<PerformanceView>('performance');
        if (out.json) out.result({ ...r, forecasts: f.supported ? f.resources : null, performance: p });
        else {
          out.line(r.resources.length === 0 ? 'no resources' : resourcesTable(r.resources));
          if (f.supported && f.resources.length > 0) out.line(`\n${forecastsTable(f.resources)}`);
          if (p.rows.length > 0) out.line(`\n${performanceTable(p)}`);
        }
        break;
      }
      case 'migrations': {
        const r = await c.request<{ supported: boolean; reason?: string; migrations: Array<Record<string, unknown>> }>('migrations');
        const ctl = await c.request<ControllerView>('controller', { limit: count ?? 20 });
        if (out.json) {
          out.result({ ...r, controller: ctl });
          break;
        }
        if (!r.supported) out.line(`migrations: not supported on this node (${r.reason ?? 'no reason given'})`);
        else if (r.migrations.length === 0) out.line('no migrations');
        else out.line(table(['ID', 'TASK', 'FROM', 'TO', 'PHASE', 'PAUSE MS', 'OUTCOME'], r.migrations.map((m) => [str(m['id']), str(m['task']), str(m['from']), str(m['to']), str(m['phase']), str(m['pauseMs']), str(m['outcome'])])));
        out.line('');
        out.line(controllerText(ctl));
        break;
      }
      case 'dead-letters': {
        const r = await c.request<DebugDeadLetters>('dead-letters', { limit: count ?? 100 });
        if (out.json) out.result(r);
        else {
          if (r.recent.length > 0) out.line(table(['TIME MS', 'TASK', 'REASON', 'MESSAGE TYPE'], r.recent.map((d) => [d.timeMs, d.taskId, d.reason, d.messageType])));
          out.line(`${r.total} dead letter${r.total === 1 ? '' : 's'} in total, ${r.recent.length} shown`);
        }
        break;
      }
      case 'events': {
        const events = await streamEvents(c, count, seconds, out);
        if (out.json) out.result({ events });
        break;
      }
    }
    return 0;
  } catch (err) {
    out.error(describe(err, url));
    return 1;
  } finally {
    await client?.close();
  }
}

function usageError(out: Output, text: string): number {
  out.error(text);
  return 2;
}

function positive(value: string | undefined, flag: string, integer: boolean): number | undefined | string {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n))) return `${flag} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`;
  return n;
}

/** One line: AuthError reads "authentication with URL failed: invalid token", NodeDownError "node URL is unreachable: ...". */
function describe(err: unknown, url: string): string {
  const text = err instanceof Error ? err.message : String(err);
  const known = err instanceof AuthError || err instanceof NodeDownError || text.includes(url);
  return (known ? text : `debug socket ${url}: ${text}`).replace(/\s*\n\s*/g, ' ');
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** Subscribes and collects events until `count` arrived, `seconds` passed, or SIGINT. */
function streamEvents(c: DebugClient, count: number | undefined, seconds: number | undefined, out: Output): Promise<WireEvent[]> {
  const events: WireEvent[] = [];
  return new Promise<WireEvent[]>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      process.off('SIGINT', onSigint);
      if (err === undefined) resolve(events);
      else reject(err);
    };
    const onSigint = () => finish();
    process.once('SIGINT', onSigint);
    c.onEvent((event, dropped) => {
      if (count !== undefined && events.length >= count) return;
      if (dropped > 0) out.line(`(${dropped} events dropped by the server: this client was too slow)`);
      events.push(event);
      out.line(eventLine(event));
      if (count !== undefined && events.length >= count) finish();
    });
    c.closed.then(() => finish(), finish);
    if (seconds !== undefined) timer = setTimeout(() => finish(), seconds * 1000);
    c.request('subscribe').catch(finish);
  });
}

function eventLine(e: WireEvent): string {
  const rest = Object.entries(e)
    .filter(([k]) => k !== 'type' && k !== 'timeMs' && k !== 'node')
    .map(([k, v]) => `${k}=${str(v)}`);
  return [typeof e.timeMs === 'number' ? e.timeMs.toFixed(1) : String(e.timeMs), e.node, e.type, ...rest].join('  ');
}

function tasksTable(tasks: readonly DebugTask[]): string {
  return table(
    ['TASK', 'DEFINITION', 'NODE', 'RESOURCE', 'KIND', 'STATUS', 'EPOCH', 'MAILBOX', 'RESTARTS', 'PROCESSED', 'STATE BYTES'],
    tasks.map((t) => [t.id, t.task, t.node, t.resource, t.kind, t.status, t.epoch, t.mailboxDepth, t.restarts, t.processed, t.stateBytes ?? '-']),
  );
}

/** A monitor reading for a table: `-` when unavailable or not sampled yet. */
function reading(value: number | null | undefined, digits: number): string {
  return typeof value === 'number' ? value.toFixed(digits) : '-';
}

interface ForecastsView {
  supported: boolean;
  resources: Array<{ resource: string; forecasts: Forecast[]; failure: FailureRisk | null; restarts: number }>;
}

/** Per resource: utilization P50/P90 at each horizon (with the model chosen), and the failure risk. */
export function forecastsTable(rows: ForecastsView['resources']): string {
  const horizons = [...new Set(rows.flatMap((r) => r.forecasts.filter((f) => f.metric === 'utilization').map((f) => f.horizonMs)))].sort((a, b) => a - b);
  const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '-');
  return table(
    ['RESOURCE', ...horizons.map((h) => `UTIL P50/P90 @${h / 1000}s`), 'MODEL', 'FAILURE P', 'WHY'],
    rows.map((r) => {
      const util = r.forecasts.filter((f) => f.metric === 'utilization');
      const at = (h: number) => util.find((f) => f.horizonMs === h);
      return [
        r.resource,
        ...horizons.map((h) => {
          const f = at(h);
          return f ? `${pct(f.p50)}/${pct(f.p90)}` : '-';
        }),
        util.at(-1)?.model ?? '-',
        r.failure ? r.failure.probability.toFixed(2) : '-',
        r.failure?.reason ?? '',
      ];
    }),
  );
}

/** Per task and resource it could run on: predicted latency and throughput at the forecast (or current) utilization. */
export function performanceTable(view: PerformanceView): string {
  const at = view.basis === 'forecast' ? `forecast @${(view.horizonMs ?? 0) / 1000}s` : 'now';
  const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toPrecision(2));
  return table(
    ['TASK', 'RESOURCE', 'KIND', `UTIL P50/P90 (${at})`, 'SERVICE MS', 'LATENCY MS P50/P90', 'MSGS/S P50/P90'],
    view.rows.map((r) => [
      r.task,
      `${r.resource}${r.current ? ' *' : ''}`,
      r.kind,
      `${(r.utilizationP50 * 100).toFixed(0)}%/${(r.utilizationP90 * 100).toFixed(0)}%`,
      ms(r.serviceMs),
      `${ms(r.latencyMsP50)}/${ms(r.latencyMsP90)}`,
      `${r.throughputPerSecP50.toFixed(0)}/${r.throughputPerSecP90.toFixed(0)}`,
    ]),
  );
}

function resourcesTable(resources: readonly DebugResource[]): string {
  return table(
    ['RESOURCE', 'NODE', 'KIND', 'STATUS', 'TASKS', 'UNITS USED', 'MEMORY USED', 'UTILIZATION', 'ENERGY J', 'POWER W', 'TEMP C', 'MSGS/S'],
    resources.map((r) => [
      r.id,
      r.node,
      r.kind,
      r.status,
      r.tasks,
      `${r.used.computeUnits}/${r.capacity.computeUnits}`,
      `${mib(r.used.memoryBytes)}/${mib(r.capacity.memoryBytes)} MiB`,
      `${(r.utilization * 100).toFixed(1)}%`,
      r.energyJ.toFixed(1),
      reading(r.metrics?.['powerW'], 1),
      reading(r.metrics?.['temperatureC'], 1),
      reading(r.metrics?.['messagesPerS'], 0),
    ]),
  );
}

const mib = (bytes: number): string => String(Math.round(bytes / 1024 / 1024));

function printTree(r: { nodes: TreeNode[]; state: string; reason?: string }, out: Output): void {
  if (r.state === 'unsupported') out.line(`(task state not shown: ${r.reason ?? 'not supported'})`);
  for (const n of r.nodes) {
    out.line(`node ${n.node}`);
    n.resources.forEach((res, i) => {
      const last = i === n.resources.length - 1;
      out.line(`${last ? '└── ' : '├── '}${res.id}  ${res.kind}  ${res.status}`);
      const prefix = last ? '    ' : '│   ';
      if (res.tasks.length === 0) out.line(`${prefix}(no tasks)`);
      res.tasks.forEach((t, j) => printTask(t, prefix, j === res.tasks.length - 1, res.id, out));
    });
  }
}

function printTask(t: TreeTask, prefix: string, last: boolean, hostResource: string, out: Output): void {
  out.line(
    `${prefix}${last ? '└── ' : '├── '}${t.id}  ${t.task}  ${t.status}  epoch ${t.epoch}  mailbox ${t.mailboxDepth}  ` +
      `restarts ${t.restarts}  processed ${t.processed}  state ${t.stateBytes ?? '-'} B${t.resource !== hostResource ? `  on ${t.resource}` : ''}`,
  );
  const inner = prefix + (last ? '    ' : '│   ');
  if (t.state !== undefined) {
    const s = JSON.stringify(t.state) ?? 'undefined';
    out.line(`${inner}state ${s.length > 200 ? `${s.slice(0, 200)}…` : s}`);
  }
  t.children.forEach((c, k) => printTask(c, inner, k === t.children.length - 1, t.resource, out));
}

interface ControllerView {
  supported: boolean;
  reason?: string;
  status?: { mode: string; suspended: boolean; ticks: number; moves: number; inFlight: number; movesLastMinute: number; energy?: { totalJ: number }; idle?: string[] };
  decisions?: Decision[];
}

const fixed = (x: number | undefined) => (x === undefined ? '' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

/** The controller's status line and its recent decisions with their cost terms. */
export function controllerText(c: ControllerView): string {
  if (!c.supported || !c.status) return `controller: none on this node (${c.reason ?? 'not configured'})`;
  const s = c.status;
  const head = `controller: mode ${s.mode}${s.suspended ? ' (suspended)' : ''}, ${s.ticks} ticks, ${s.moves} moves started, ${s.inFlight} in flight, ${s.movesLastMinute} in the last minute${s.energy ? `; energy ${(s.energy.totalJ / 1000).toFixed(1)} kJ` : ''}${s.idle && s.idle.length > 0 ? `; idle: ${s.idle.join(', ')}` : ''}`;
  const rows = (c.decisions ?? []).map((d) => [
    (d.atMs / 1000).toFixed(1),
    d.action,
    d.task ?? '-',
    d.resource,
    d.to ?? '-',
    d.reason,
    fixed(d.terms?.total),
    fixed(d.terms?.gain),
    fixed(d.terms?.degradation),
    fixed(d.terms?.transfer),
    fixed(d.terms?.disruption),
    fixed(d.terms?.energy),
    d.executed ? 'yes' : 'no',
  ]);
  if (rows.length === 0) return `${head}\nno decisions yet`;
  return `${head}\n${table(['T S', 'ACTION', 'TASK', 'FROM', 'TO', 'WHY', 'COST', 'GAIN', 'DEGRAD', 'TRANSFER', 'DISRUPT', 'ENERGY', 'DONE'], rows)}`;
}
