/**
 * A `TaskRef` is the address of a task: its TaskId, never a pointer. It is serializable (codecs
 * carry it as a ref), stable across restarts, re-placements and migrations, and cheap to copy.
 */

const BRAND = Symbol.for('godwit.task-ref');

export class TaskRef {
  /** The stable TaskId. */
  readonly id: string;
  /** The name of the task definition (informational; routing uses `id` alone). */
  readonly task: string;

  constructor(id: string, task: string) {
    this.id = id;
    this.task = task;
    Object.freeze(this);
  }

  get [BRAND](): true {
    return true;
  }

  toString(): string {
    return `TaskRef(${this.id})`;
  }

  toJSON(): { $taskRef: string; task: string } {
    return { $taskRef: this.id, task: this.task };
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return isTaskRef(value);
  }
}

/** True for a `TaskRef` from any copy of godwit. */
export function isTaskRef(value: unknown): value is TaskRef {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** Rebuilds a ref from its JSON form (`{ $taskRef, task }`), or returns undefined. */
export function taskRefFromJSON(value: unknown): TaskRef | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { $taskRef?: unknown; task?: unknown };
  if (typeof v.$taskRef !== 'string' || typeof v.task !== 'string') return undefined;
  return new TaskRef(v.$taskRef, v.task);
}
