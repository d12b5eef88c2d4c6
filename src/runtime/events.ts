/**
 * One observer API for everything the runtime does. Emitting costs nothing when no one listens:
 * callers check `observer.active` before building an event.
 */
import type { RuntimeEvent } from './event-types.js';

export type EventListener = (event: RuntimeEvent) => void;

export interface Subscription {
  unsubscribe(): void;
}

export class Observer {
  private listeners: EventListener[] = [];
  /** Errors thrown by listeners are reported here instead of reaching the runtime. */
  onListenerError: (err: unknown) => void = () => {};

  get active(): boolean {
    return this.listeners.length > 0;
  }

  subscribe(listener: EventListener, types?: readonly RuntimeEvent['type'][]): Subscription {
    const wanted = types ? new Set<string>(types) : undefined;
    const fn: EventListener = wanted ? (e) => void (wanted.has(e.type) && listener(e)) : listener;
    this.listeners = [...this.listeners, fn];
    return { unsubscribe: () => void (this.listeners = this.listeners.filter((l) => l !== fn)) };
  }

  emit(event: RuntimeEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
