/**
 * The demo's runtime: by default an RMS in this process (no devices of its own, the migration
 * controller, a debug socket on loopback for the cluster view) and one child process per demo
 * node (`demo-node.js`, joined over loopback with a random shared secret); with `inproc` one
 * runtime holding every device. Either way the caller gets the same handle: the runtime to spawn
 * and ask through, the rows of every resource and task, the events of every node, and `close()`,
 * which stops the nodes and waits for their processes to exit (SIGKILL after a grace period).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  connectDebugSocket,
  createLocalDebugSource,
  createRuntime,
  type DebugResource,
  type DebugTask,
  type Runtime,
  type RuntimeControllerOptions,
  type RuntimeOptions,
} from '../index.js';
import type { TraceFormat } from '../devices/traces.js';
import { createDemoForecasts, type DemoForecasts } from './demo-forecasts.js';
import { demoEventOf, demoEventTypes, hostDemoDevices, type DemoEvent } from './demo-host.js';
import type { DemoNodeSettings, ParentMessage } from './demo-node.js';
import { CRITICAL_C, demoDevice, demoNodes, type ScenarioSettings } from './demo-scenario.js';
import { demoTasks } from './demo-tasks.js';

export type DemoPolicy = 'predictive' | 'reactive' | 'static';

export interface ClusterOptions {
  inproc: boolean;
  policy: DemoPolicy;
  settings: ScenarioSettings;
  trace: { file: string; format: TraceFormat } | undefined;
  monitorMs: number;
  logLevel: 'silent' | 'warn' | 'info' | 'debug';
  /** Called when a child process exits before `close()`. */
  onChildExit?(node: string, code: number | null): void;
}

export interface DemoCluster {
  readonly rt: Runtime;
  readonly forecasts: DemoForecasts;
  readonly horizonMs: number;
  /** Process ids of the node processes (empty with `inproc`). */
  readonly children: ReadonlyArray<{ node: string; pid: number }>;
  rows(): Promise<{ resources: readonly DebugResource[]; tasks: readonly DebugTask[] }>;
  onEvent(fn: (e: DemoEvent, node: string) => void): void;
  /** Turns every device's profile on: run time 0. */
  start(): void;
  close(): Promise<void>;
}

const HORIZON_MS = 5000;
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 3000;
const nodeEntry = fileURLToPath(new URL('./demo-node.js', import.meta.url));

function controllerOptions(o: ClusterOptions, forecasts: DemoForecasts): RuntimeControllerOptions {
  if (o.policy === 'static') return { mode: 'off', forecasts };
  // Time-compressed like the profiles: a 5 s horizon, and the hysteresis scaled down with it (default 0.5 for 30 s).
  return { mode: 'auto', policy: o.policy, intervalMs: 500, horizonMs: HORIZON_MS, hysteresis: 0.1, cooldownMs: 5000, pingPongMs: 10_000, forecasts };
}

/** Options both modes share; the forecasts read the runtime `runtime()` returns once it exists. */
function common(o: ClusterOptions, runtime: () => Runtime): { forecasts: DemoForecasts; options: Partial<RuntimeOptions> } {
  const forecasts = createDemoForecasts(runtime, {
    resources: demoNodes.flatMap((n) => n.devices.map((d) => d.id)),
    stepMs: o.monitorMs,
    horizonMs: HORIZON_MS,
    failurePredictor: o.policy === 'predictive',
  });
  const options: Partial<RuntimeOptions> = {
    logger: { level: o.logLevel },
    tasks: [...demoTasks],
    monitor: { intervalMs: o.monitorMs, flushIntervalMs: o.monitorMs },
    metrics: { rawPoints: 8192 },
    snapshotIntervalMs: 250,
    controller: controllerOptions(o, forecasts),
    predictors: { failure: { highC: CRITICAL_C } },
  };
  return { forecasts, options };
}

export async function startDemoCluster(o: ClusterOptions): Promise<DemoCluster> {
  let current: Runtime | undefined;
  const { forecasts, options } = common(o, () => current!);
  const listeners: Array<(e: DemoEvent, node: string) => void> = [];
  const emit = (e: DemoEvent, node: string) => listeners.forEach((fn) => fn(e, node));
  if (o.inproc) {
    const rt = createRuntime({ ...options, name: 'demo', devices: demoNodes.flatMap((n) => n.devices.map(demoDevice)) });
    current = rt;
    rt.observe((e) => {
      const event = demoEventOf(e);
      if (event) emit(event, 'demo');
    }, demoEventTypes);
    await rt.ready;
    const source = createLocalDebugSource(rt);
    const devices = hostDemoDevices(rt, o.settings, demoNodes.flatMap((n) => n.devices));
    return {
      rt,
      forecasts,
      horizonMs: HORIZON_MS,
      children: [],
      rows: async () => ({ resources: await source.resources(), tasks: await source.tasks() }),
      onEvent: (fn) => void listeners.push(fn),
      start: () => devices.start(),
      async close() {
        await devices.close();
        source.close();
        await rt.shutdown();
      },
    };
  }

  const secret = randomBytes(24).toString('base64url');
  const token = randomBytes(24).toString('base64url');
  const rt = createRuntime({ ...options, name: 'rms', rms: true, listen: { host: '127.0.0.1', port: 0 }, auth: { secret }, devices: [], debug: { port: 0, token } });
  current = rt;
  const children: Array<{ node: string; pid: number; child: ChildProcess }> = [];
  let closing = false;
  const stopChildren = async () => {
    await Promise.all(
      children.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage, () => undefined);
        const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(kill);
      }),
    );
  };
  try {
    await rt.ready;
    const joined = new Set<string>();
    const allJoined = new Promise<void>((resolve) => {
      const sub = rt.observe((e) => {
        if (e.type === 'node.joined') joined.add(e.node);
        if (demoNodes.every((n) => joined.has(n.name))) {
          sub.unsubscribe();
          resolve();
        }
      }, ['node.joined']);
    });
    const ready: Array<Promise<void>> = [];
    for (const n of demoNodes) {
      const settings: DemoNodeSettings = { node: n.name, join: rt.url!, seconds: o.settings.seconds, seed: o.settings.seed, monitorMs: o.monitorMs, logLevel: o.logLevel, ...(o.trace ? { trace: o.trace } : {}) };
      const child = fork(nodeEntry, [], {
        env: { ...process.env, GODWIT_DEMO: JSON.stringify(settings), GODWIT_SECRET: secret },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        // Its own process group: a Ctrl-C in the terminal reaches the demo, which stops the load before the nodes.
        detached: true,
        serialization: 'json',
      });
      children.push({ node: n.name, pid: child.pid!, child });
      child.on('message', (m: { type: string; node: string; event?: DemoEvent }) => {
        if (m.type === 'event' && m.event) emit(m.event, m.node);
      });
      child.once('exit', (code) => {
        if (!closing) o.onChildExit?.(n.name, code);
      });
      ready.push(
        new Promise<void>((resolve, reject) => {
          child.on('message', (m: { type: string }) => m.type === 'ready' && resolve());
          child.once('exit', (code) => reject(new Error(`demo node ${n.name} exited with code ${code} before it was ready`)));
        }),
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the demo nodes were not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS)));
    try {
      await Promise.race([Promise.all([...ready, allJoined]), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } catch (err) {
    closing = true;
    await stopChildren();
    await rt.shutdown();
    throw err;
  }
  const client = await connectDebugSocket(rt.debugUrl!, { token });
  return {
    rt,
    forecasts,
    horizonMs: HORIZON_MS,
    children: children.map(({ node, pid }) => ({ node, pid })),
    async rows() {
      const [r, t] = await Promise.all([client.request<{ resources: DebugResource[] }>('resources'), client.request<{ tasks: DebugTask[] }>('tasks')]);
      return { resources: r.resources, tasks: t.tasks };
    },
    onEvent: (fn) => void listeners.push(fn),
    start() {
      for (const { child } of children) if (child.connected) child.send({ type: 'start' } satisfies ParentMessage, () => undefined);
    },
    async close() {
      closing = true;
      await client.close().catch(() => undefined);
      await stopChildren();
      await rt.shutdown();
    },
  };
}
