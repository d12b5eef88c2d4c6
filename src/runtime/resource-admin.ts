/**
 * Admin operations on a runtime's own resources: fail one, drain it (live-migrating its tasks
 * away) or let it take tasks again, power it down or up.
 */
import { UnknownResourceError } from '../errors.js';
import type { ResourceActor } from '../actors/resource.js';
import type { MigrationReport } from './migration.js';
import type { RuntimeImpl } from './runtime.js';

/** The resource `id` of a runtime that is up; throws `UnknownResourceError` when there is none. */
function resourceOf(rt: RuntimeImpl, id: string): ResourceActor {
  rt.assertUp();
  const resource = rt.resourceActors.get(id);
  if (!resource) throw new UnknownResourceError(id);
  return resource;
}

export function failResource(rt: RuntimeImpl, id: string): void {
  const resource = resourceOf(rt, id);
  if (!resource.up) return;
  rt.supervisor.resourceFailed(resource);
}

export async function drainResource(rt: RuntimeImpl, id: string): Promise<{ moved: number; stayed: number; migrations: MigrationReport[] }> {
  const resource = resourceOf(rt, id);
  resource.draining = true;
  const migrations = await Promise.all(resource.topLevelCells().map((c) => rt.migrator.migrate(c.id, {})));
  const moved = migrations.filter((m) => m.outcome === 'committed').length;
  rt.emit({ type: 'resource.drained', timeMs: rt.clock.now(), resource: id, kind: resource.device.kind, moved, stayed: migrations.length - moved });
  return { moved, stayed: migrations.length - moved, migrations };
}

/** Powers a resource of this node down (`idle`: no new task, no idle draw in its energy) or up. */
export async function setPowerState(rt: RuntimeImpl, id: string, state: 'active' | 'idle'): Promise<void> {
  const resource = resourceOf(rt, id);
  resource.setPowerState(state, rt.clock.now());
  await rt.runtimeMetrics.powerHooks.get(id)?.(state);
}

export function undrainResource(rt: RuntimeImpl, id: string): void {
  resourceOf(rt, id).draining = false;
}
