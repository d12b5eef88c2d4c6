/**
 * What a process hosting demo devices does, the same in a node process and in `--inproc`: turns
 * each device's simulated plugin on when the load starts (so every profile starts at run time 0),
 * tells the demo tasks how busy their device is, and reports the events the demo summarizes in a
 * plain, serializable form (they cross the IPC channel of a node process).
 */
import { createManualClock, type Runtime, type RuntimeEvent, type SimDevice } from '../index.js';
import { createDemoSimDevice, HOSTED_LOAD, type DemoDeviceSpec, type ScenarioSettings } from './demo-scenario.js';
import { setDemoLoad } from './demo-tasks.js';

/** An event of a demo process, as the demo's parent sees it. */
export type DemoEvent =
  | { type: 'migration.started'; timeMs: number; migration: string; taskId: string; from: string; to: string }
  | { type: 'migration.committed'; timeMs: number; migration: string; taskId: string; from: string; to: string; pauseMs: number }
  | { type: 'migration.aborted'; timeMs: number; migration: string; taskId: string; from: string; to: string; reason: string }
  | { type: 'task.replaced'; timeMs: number; taskId: string; from: string; to: string; reason: string; fromSnapshot: boolean }
  | { type: 'task.stopped'; timeMs: number; taskId: string; reason: string }
  | { type: 'resource.failed'; timeMs: number; resource: string; tasks: number };

export const demoEventTypes = ['migration.started', 'migration.committed', 'migration.aborted', 'task.replaced', 'task.stopped', 'resource.failed'] as const;

/** The serializable part of a runtime event the demo follows (undefined for the others). */
export function demoEventOf(e: RuntimeEvent): DemoEvent | undefined {
  switch (e.type) {
    case 'migration.started':
      return { type: e.type, timeMs: e.timeMs, migration: e.migration, taskId: e.taskId, from: e.from, to: e.to };
    case 'migration.committed':
      return { type: e.type, timeMs: e.timeMs, migration: e.migration, taskId: e.taskId, from: e.from, to: e.to, pauseMs: e.pauseMs };
    case 'migration.aborted':
      return { type: e.type, timeMs: e.timeMs, migration: e.migration, taskId: e.taskId, from: e.from, to: e.to, reason: e.reason };
    case 'task.replaced':
      return { type: e.type, timeMs: e.timeMs, taskId: e.taskId, from: e.from, to: e.to, reason: e.reason, fromSnapshot: e.fromSnapshot };
    case 'task.stopped':
      return { type: e.type, timeMs: e.timeMs, taskId: e.taskId, reason: String(e.reason) };
    case 'resource.failed':
      return { type: e.type, timeMs: e.timeMs, resource: e.resource, tasks: e.tasks };
    default:
      return undefined;
  }
}

/**
 * The demo devices of one process. Until `start()`, each device's monitor reads its profile
 * frozen at run time 0 (a device on a clock that never moves), so the forecasters see a steady
 * history rather than a jump when the run starts; `start()` attaches the running plugins (run
 * time 0 is then) and tells the demo tasks how busy their device is.
 */
export function hostDemoDevices(rt: Runtime, settings: ScenarioSettings, specs: readonly DemoDeviceSpec[]): { start(): void; close(): Promise<void> } {
  const frozen = createManualClock();
  const preview = specs.map((spec) => createDemoSimDevice(settings, spec, () => 0, { clock: frozen, logger: rt.log }));
  for (const d of preview) rt.monitorWith(d.device.id, () => d.sample(d.device.id).metrics);
  let devices: SimDevice[] = [];
  return {
    start() {
      if (devices.length > 0) return;
      const hosted = (id: string) => () => HOSTED_LOAD * (rt.resources().find((r) => r.id === id)?.tasks ?? 0);
      devices = specs.map((spec) => createDemoSimDevice(settings, spec, hosted(spec.id), { clock: rt.clock, logger: rt.log }));
      const byId = new Map(devices.map((d) => [d.device.id, d]));
      for (const d of devices) rt.attachDevicePlugin(d.device.id, d);
      setDemoLoad((id) => {
        const u = byId.get(id)?.sample(id).metrics.utilization;
        return typeof u === 'number' ? u : undefined;
      });
    },
    async close() {
      setDemoLoad(() => undefined);
      await Promise.all([...preview, ...devices].map((d) => d.close()));
    },
  };
}
