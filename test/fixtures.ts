/** Task definitions used across tests. */
import { defineTask, type TaskDefinition } from '../src/index.js';

export type CounterMsg = { type: 'inc'; by?: number } | { type: 'get' } | { type: 'crash'; reason?: string } | { type: 'log'; value: number } | { type: 'dump' };

export interface CounterState {
  n: number;
  log: number[];
}

/** A counter that can be told to crash; `get` answers the count, `log` appends in arrival order. */
export const counter: TaskDefinition<CounterState, CounterMsg, unknown, number | undefined> = defineTask<CounterState, CounterMsg, unknown, number | undefined>({
  name: 'counter',
  init: (start) => ({ n: start ?? 0, log: [] }),
  receive(s, msg, ctx) {
    switch (msg.type) {
      case 'inc':
        return { ...s, n: s.n + (msg.by ?? 1) };
      case 'get':
        ctx.reply(s.n);
        return s;
      case 'log':
        s.log.push(msg.value);
        return s;
      case 'dump':
        ctx.reply(s.log);
        return s;
      case 'crash':
        throw new Error(msg.reason ?? 'told to crash');
    }
  },
});

export function counterWith(extra: Partial<TaskDefinition<CounterState, CounterMsg, unknown, number | undefined>>) {
  return defineTask<CounterState, CounterMsg, unknown, number | undefined>({ ...counter, ...extra });
}
