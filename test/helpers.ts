/** Shared test helpers: quiet runtimes on simulated devices, and awaiting events instead of sleeping. */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  createManualClock,
  createRuntime,
  simulatedDevice,
  type ManualClock,
  type Runtime,
  type RuntimeEvent,
  type RuntimeEventType,
  type RuntimeOptions,
} from '../src/index.js';

export function quietRuntime(options: RuntimeOptions = {}): Runtime {
  return createRuntime({
    logger: { level: 'silent' },
    devices: [simulatedDevice({ kind: 'cpu', id: 'cpu-0' }), simulatedDevice({ kind: 'gpu', id: 'gpu-0' })],
    ...options,
  });
}

export function manualRuntime(options: RuntimeOptions = {}): { rt: Runtime; clock: ManualClock } {
  const clock = createManualClock();
  return { rt: quietRuntime({ clock, ...options }), clock };
}

type EventOf<T extends RuntimeEventType> = Extract<RuntimeEvent, { type: T }>;

/** Resolves with the next event of `type` that passes `where`. */
export function nextEvent<T extends RuntimeEventType>(rt: Runtime, type: T, where: (e: EventOf<T>) => boolean = () => true): Promise<EventOf<T>> {
  return new Promise((resolve) => {
    const sub = rt.observe((e) => {
      if (e.type === type && where(e as EventOf<T>)) {
        sub.unsubscribe();
        resolve(e as EventOf<T>);
      }
    });
  });
}

/** Resolves once `condition` holds, checking it now and after every event of any of the runtimes. */
export function until(runtimes: Runtime[], condition: () => boolean): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve) => {
    const subs = runtimes.map((rt) =>
      rt.observe(() => {
        if (!condition()) return;
        for (const s of subs) s.unsubscribe();
        resolve();
      }),
    );
  });
}

/** Records every event (or those of the given types) in order. */
export function recordEvents(rt: Runtime, types?: RuntimeEventType[]): RuntimeEvent[] {
  const events: RuntimeEvent[] = [];
  rt.observe((e) => events.push(e), types);
  return events;
}

/** Lets queued turns run: nact schedules each turn with setImmediate. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Ends a child node process the way the fixtures expect (stdin closes), SIGKILL after 5 s; a
 * child that already exited (or was killed) is left as it is.
 */
export async function endChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
