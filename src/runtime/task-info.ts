/** A task's row in `Runtime#tasks`: where it runs and its counters, never its state. */
import type { TaskCell } from '../actors/task-cell.js';
import type { Affinity } from './placement.js';
import type { TaskInfo } from './runtime-api.js';

/** `affinity`: what the cell was placed with, if anything. */
export function taskInfo(c: TaskCell, affinity: Affinity | undefined): TaskInfo {
  return {
    ref: c.ref,
    id: c.id,
    task: c.def.name,
    parent: c.parent?.id ?? c.remoteParent?.id,
    resource: c.resource.id,
    kind: c.resource.device.kind,
    status: c.status,
    epoch: c.epoch,
    mailboxDepth: c.queued,
    processed: c.processed,
    duplicates: c.duplicates,
    gapsSkipped: c.gapsSkipped,
    stateBytes: c.snapshot?.bytes.length ?? null,
    restarts: c.restartCount,
    path: c.handle.path,
    ...(affinity ? { affinity } : {}),
    ...costOf(c),
  };
}

/** `{ costMsByKind }` when the task has a cost profile, else nothing. */
function costOf(c: TaskCell): { costMsByKind?: Record<string, number> } {
  const profile = c.costProfile();
  return Object.keys(profile).length > 0 ? { costMsByKind: profile } : {};
}
