import type { Decision } from '../controller/model.js';

/** The events the runtime emits through `runtime.observe(...)`. Every event has `type` and `timeMs` (clock time). */

export type StopReason = 'requested' | 'failed' | 'directive' | 'parent-stopped' | 'resource-failed' | 'shutdown';
export type DeadLetterReason = 'unknown-task' | 'mailbox-full' | 'stopped' | 'node-down';
export type Directive = 'restart' | 'resume' | 'stop' | 'escalate' | 'replace';

interface Base {
  timeMs: number;
}

export type RuntimeEvent =
  | (Base & { type: 'task.spawned'; taskId: string; task: string; resource: string; parent?: string })
  | (Base & { type: 'task.crashed'; taskId: string; task: string; resource: string; err: unknown; directive: Directive })
  | (Base & { type: 'task.restarted'; taskId: string; task: string; resource: string; restarts: number; delayMs: number })
  | (Base & { type: 'task.escalated'; taskId: string; task: string; resource: string; to: string; err: unknown })
  | (Base & {
      type: 'task.replaced';
      taskId: string;
      task: string;
      from: string;
      to: string;
      reason: 'directive' | 'resource-failed';
      fromSnapshot: boolean;
    })
  | (Base & { type: 'task.stopped'; taskId: string; task: string; resource: string; reason: StopReason; err?: unknown })
  | (Base & { type: 'message.dead-lettered'; taskId: string; reason: DeadLetterReason; message: unknown })
  | (Base & { type: 'migration.started'; migration: string; taskId: string; from: string; to: string })
  | (Base & { type: 'migration.committed'; migration: string; taskId: string; from: string; to: string; pauseMs: number })
  | (Base & { type: 'migration.aborted'; migration: string; taskId: string; from: string; to: string; reason: string })
  | (Base & { type: 'controller.decision'; decision: Decision })
  | (Base & { type: 'predictor.restarted'; resource: string; restarts: number; err: unknown })
  | (Base & { type: 'metrics.recorded'; resources: string[]; samples: number })
  | (Base & { type: 'resource.added'; resource: string; kind: string })
  | (Base & { type: 'resource.failed'; resource: string; kind: string; tasks: number })
  | (Base & { type: 'resource.drained'; resource: string; kind: string; moved: number; stayed: number })
  | (Base & { type: 'node.joined'; node: string })
  | (Base & { type: 'node.down'; node: string })
  | (Base & { type: 'runtime.shut-down'; runtime: string });

export type RuntimeEventType = RuntimeEvent['type'];
