/**
 * A resource node of `godwit demo`, started by the demo as a child process with an IPC channel
 * (internal: not a command). It reads its settings from `GODWIT_DEMO` (JSON: node name, RMS URL,
 * seconds, seed, trace, monitor interval) and the cluster secret from `GODWIT_SECRET`, joins the
 * RMS with its simulated devices and the demo tasks, says `ready`, turns its device profiles on
 * at `start`, forwards the events the demo follows, and shuts down on `stop`, on SIGINT/SIGTERM,
 * or as soon as its parent's IPC channel closes (the parent died), so it never outlives the demo.
 */
import { createRuntime, readTrace } from '../index.js';
import type { TraceFormat } from '../devices/traces.js';
import { demoEventOf, demoEventTypes, hostDemoDevices } from './demo-host.js';
import { demoDevice, demoNodes, type ScenarioSettings } from './demo-scenario.js';
import { demoTasks } from './demo-tasks.js';

export interface DemoNodeSettings {
  node: string;
  join: string;
  seconds: number;
  seed: number;
  monitorMs: number;
  logLevel: 'silent' | 'warn' | 'info' | 'debug';
  trace?: { file: string; format: TraceFormat };
}

export type ParentMessage = { type: 'start' } | { type: 'stop' };

const send = (m: unknown): void => {
  if (process.connected) process.send?.(m);
};

async function main(): Promise<void> {
  const o = JSON.parse(process.env['GODWIT_DEMO'] ?? '{}') as DemoNodeSettings;
  const secret = process.env['GODWIT_SECRET'];
  const spec = demoNodes.find((n) => n.name === o.node);
  if (!spec || !secret || !process.send) throw new Error('demo-node is started by `godwit demo` (GODWIT_DEMO, GODWIT_SECRET and an IPC channel)');
  const settings: ScenarioSettings = { seconds: o.seconds, seed: o.seed, ...(o.trace ? { trace: await readTrace(o.trace.file, o.trace.format) } : {}) };
  const rt = createRuntime({
    name: o.node,
    join: o.join,
    auth: { secret },
    logger: { level: o.logLevel },
    devices: spec.devices.map(demoDevice),
    tasks: [...demoTasks],
    monitor: { intervalMs: o.monitorMs, flushIntervalMs: o.monitorMs },
    snapshotIntervalMs: 250,
    snapshotShipIntervalMs: 250,
  });
  const devices = hostDemoDevices(rt, settings, spec.devices);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await devices.close();
      await rt.shutdown();
      if (process.connected) process.disconnect();
      // Whatever still holds the loop (a link closing slowly), the node does not outlive the demo.
      setTimeout(() => process.exit(0), 2000).unref();
    })());
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  process.once('disconnect', () => void stop());
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'start') devices.start();
    else if (m.type === 'stop') void stop();
  });
  rt.observe((e) => {
    const event = demoEventOf(e);
    if (event) send({ type: 'event', node: o.node, event });
  }, demoEventTypes);
  await rt.ready;
  send({ type: 'ready', node: o.node, pid: process.pid, url: rt.url });
}

main().catch((err: unknown) => {
  process.stderr.write(`godwit demo node: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
  process.disconnect?.();
});
