/** Pre-copy on the target: the source's message log replayed over the shadow state, effects off. */
import { InvalidArgumentError } from '../errors.js';
import { TaskRef } from '../actors/ref.js';
import type { TaskContext, TaskDefinition } from '../actors/task.js';
import type { RuntimeImpl } from './runtime.js';

/**
 * Runs `receive` over logged messages on the shadow state, with a context whose effects are off:
 * the replies, sends and spawns of those turns already happened at the source.
 */
export async function replay(rt: RuntimeImpl, m: { id: string; def: TaskDefinition; resource: string; state: unknown }, log: readonly unknown[]): Promise<unknown> {
  const resource = rt.resourceActors.get(m.resource)!;
  const self = new TaskRef(m.id, m.def.name);
  const ctx: TaskContext = {
    self,
    resource: { id: resource.id, kind: resource.device.kind },
    clock: rt.clock,
    log: rt.log,
    canReply: false,
    reply: () => {},
    deferReply: () => ({ resolve: () => {}, reject: () => {} }),
    forward: () => {},
    send: () => {},
    ask: () => Promise.reject(new InvalidArgumentError('ask', 'a task cannot ask while its log is replayed (use stop-and-copy)')),
    spawnChild: (task, options = {}) => new TaskRef(`${m.id}/${options.id ?? task.name}`, task.name),
    stopChild: () => {},
    children: () => [],
    metrics: { add: () => {}, set: () => {} },
    kernel<In, Out>(input: In): Out {
      const fn = m.def.kernels?.[resource.device.kind] as ((input: In, ctx: TaskContext) => Out) | undefined;
      if (!fn) throw new InvalidArgumentError('kernel', `task ${m.def.name} has no kernel for kind ${resource.device.kind}`);
      return fn(input, ctx);
    },
  };
  let state = m.state;
  for (const msg of log) state = await m.def.receive(state, msg, ctx);
  return state;
}
