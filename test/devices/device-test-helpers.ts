/** Helpers for the device plugin tests: fixture paths, scratch copies, a recording logger, awaiting plugin events. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../src/runtime/logger.js';
import type { DevicePlugin, DevicePluginEvent } from '../../src/devices/plugin.js';

/** test/fixtures/devices in the source tree (tsc does not copy non-.ts fixtures into dist/). */
export const fixturesDir = fileURLToPath(new URL('../../../test/fixtures/devices/', import.meta.url));

/** ../shared/data relative to the repository root. */
export const sharedDataDir = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));

export function fixture(...parts: string[]): string {
  return path.join(fixturesDir, ...parts);
}

/** A scratch copy of a fixture tree the test may change; `remove()` deletes it. */
export function scratchCopy(name: string): { root: string; remove(): void } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'godwit-devices-'));
  cpSync(fixture(name), root, { recursive: true });
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export interface LogEntry {
  level: string;
  obj: unknown;
  msg: string | undefined;
}

export function recordingLogger(): Logger & { entries: LogEntry[]; at(level: string): LogEntry[] } {
  const entries: LogEntry[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const write = (level: string) => (obj: unknown, msg?: string) =>
      void entries.push({ level, obj: typeof obj === 'object' && obj !== null ? { ...bindings, ...obj } : obj, msg });
    return {
      level: 'trace',
      child: (more) => make({ ...bindings, ...more }),
      trace: write('trace'),
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
    };
  };
  return Object.assign(make({}), { entries, at: (level: string) => entries.filter((e) => e.level === level) });
}

type EventOf<T extends DevicePluginEvent['type']> = Extract<DevicePluginEvent, { type: T }>;

/** Resolves with the next event of `type` from `plugin` that passes `where`. */
export function nextPluginEvent<T extends DevicePluginEvent['type']>(
  plugin: DevicePlugin,
  type: T,
  where: (e: EventOf<T>) => boolean = () => true,
): Promise<EventOf<T>> {
  return new Promise((resolve) => {
    const stop = plugin.subscribe((e) => {
      if (e.type === type && where(e as EventOf<T>)) {
        stop();
        resolve(e as EventOf<T>);
      }
    });
  });
}

/** Records every event of `plugin` in order. */
export function recordPluginEvents(plugin: DevicePlugin): DevicePluginEvent[] {
  const events: DevicePluginEvent[] = [];
  plugin.subscribe((e) => events.push(e));
  return events;
}
