/**
 * The one file that imports nact. nact gives godwit its actor hierarchy (paths, children stopped
 * with their parent) and its scheduling: every turn of a godwit actor runs as one nact message,
 * on its own macrotask. godwit keeps its own bounded mailbox, system-message queue and
 * supervision on top, and asks nact for a turn only when a mailbox goes from empty to non-empty,
 * so one nact dispatch carries a whole batch of godwit messages.
 */
import nact from 'nact';

/** An opaque handle to a nact actor. */
export interface ActorHandle {
  readonly path: string;
}

interface NactRef extends ActorHandle {
  readonly ref: unknown;
}

type Tick = () => void;

const TICK = Object.freeze({ tick: true });

export interface ActorSystem {
  readonly root: ActorHandle;
  /** Spawns an actor under `parent` whose every turn calls `onTurn`. */
  spawn(parent: ActorHandle, name: string, onTurn: Tick): ActorHandle;
  /** Schedules one turn of the actor (a nact dispatch). */
  schedule(actor: ActorHandle): void;
  /** Stops the actor and its descendants. */
  stop(actor: ActorHandle): void;
  shutdown(): void;
}

const asRef = (h: ActorHandle): unknown => (h as NactRef).ref;

/** nact names may hold only URI-safe characters; godwit ids may hold any. */
export function toActorName(id: string): string {
  return encodeURIComponent(id).replace(/%/g, '$');
}

export function createActorSystem(name: string): ActorSystem {
  const system = nact.start({ name: toActorName(name) } as never);
  const root: NactRef = { path: '/', ref: system };
  return {
    root,
    spawn(parent, childName, onTurn) {
      const ref = nact.spawnStateless(asRef(parent) as never, () => onTurn(), toActorName(childName));
      return { path: `${parent.path === '/' ? '' : parent.path}/${childName}`, ref } as NactRef;
    },
    schedule(actor) {
      nact.dispatch(asRef(actor) as never, TICK);
    },
    stop(actor) {
      nact.stop(asRef(actor) as never);
    },
    shutdown() {
      nact.stop(system as never);
    },
  };
}

/** Raw nact, for the messaging benchmark's baseline only. */
export const rawNact = {
  start: (): unknown => nact.start(),
  spawn: <S, M>(parent: unknown, f: (state: S, msg: M) => S, initialState: S): unknown =>
    nact.spawn(parent as never, f as never, undefined, { initialState } as never),
  dispatch: (ref: unknown, msg: unknown): void => nact.dispatch(ref as never, msg),
  query: (ref: unknown, make: (sender: unknown) => unknown, timeoutMs: number): Promise<unknown> =>
    nact.query(ref as never, make as never, timeoutMs),
  stop: (ref: unknown): void => nact.stop(ref as never),
};
