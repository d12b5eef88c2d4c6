/**
 * The debug socket: a WebSocket endpoint per node that answers questions about the actor tree,
 * streams runtime events, and (only when `admin` is on) takes a few commands. Loopback by
 * default, a token always, read-only by default, never task state unless asked on an admin
 * socket. The protocol is in debug-protocol.ts and docs/debug-socket.md.
 */
import { performanceView } from './debug-performance.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import {
  AdminOps,
  DebugCloseCodes,
  DebugErrorCodes,
  ForbiddenError,
  NotSupportedError,
  type ParsedRequest,
  parseRequest,
  type RequestId,
  safeStringify,
  toWireEvent,
  UnknownOpError,
  wireCodeOf,
} from './debug-protocol.js';
import { addTaskState, buildTree, type DebugSource } from './debug-source.js';
import type { RuntimeEventType } from './event-types.js';
import type { Subscription } from './events.js';
import type { Logger } from './logger.js';
import { listen, type Socket } from './ws-adapter.js';

export interface DebugServerOptions {
  /** Interface to bind (default 127.0.0.1: loopback only). */
  host?: string;
  /** TCP port (default 0: any free port; read the chosen one from `url`). */
  port?: number;
  /** Clients must present this token (Authorization: Bearer, or a first `auth` message). */
  token: string;
  /** Allow admin ops (`migrate`, `drain`, `controller.*`) and `includeState` (default false). */
  admin?: boolean;
  /** Largest request frame accepted, in bytes (default 64 KiB); larger closes with 1009. */
  maxPayloadBytes?: number;
  /** A client without an Authorization header must send `auth` within this many ms (default 5000). */
  authTimeoutMs?: number;
  /** Event frames are dropped (and counted) while a subscriber has more than this buffered (default 4 MiB). */
  maxBufferedBytes?: number;
  /** Where refused connections are logged (never with the token). Default: not logged. */
  logger?: Logger;
}

export interface DebugServer {
  /** `ws://host:port` of the endpoint. */
  readonly url: string;
  /** Closes every client (1001) and stops listening. Does not close the source. */
  close(): Promise<void>;
}

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError(name, `must be a positive integer, got ${String(value)}`);
  return value;
}

/** Starts listening. Bad options throw at the call; a port in use rejects. */
export function startDebugServer(source: DebugSource, options: DebugServerOptions): Promise<DebugServer> {
  if (typeof source !== 'object' || source === null || typeof source.tasks !== 'function') throw new InvalidArgumentError('source', 'must be a DebugSource');
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
  if (typeof options.token !== 'string' || options.token.length === 0) throw new InvalidArgumentError('options.token', 'must be a non-empty string');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('options.port', `must be an integer in 0..65535, got ${String(port)}`);
  const maxPayloadBytes = positiveInteger('options.maxPayloadBytes', options.maxPayloadBytes, 64 * 1024);
  const expected = digest(options.token);
  const config: ConnectionConfig = {
    source,
    admin: options.admin ?? false,
    authTimeoutMs: positiveInteger('options.authTimeoutMs', options.authTimeoutMs, 5000),
    maxBufferedBytes: positiveInteger('options.maxBufferedBytes', options.maxBufferedBytes, 4 * 1024 * 1024),
    checkToken: (token) => typeof token === 'string' && timingSafeEqual(digest(token), expected),
    log: options.logger?.child({ node: source.node, component: 'debug-socket' }),
  };
  const connections = new Set<Connection>();
  const listening = listen({ host: options.host ?? '127.0.0.1', port, maxPayloadBytes }, (socket, request) => {
    const c = new Connection(socket, config, request.remoteAddress, () => connections.delete(c));
    connections.add(c);
    c.start(request.headers['authorization']);
  });
  return listening.then((server) => {
    let closing: Promise<void> | undefined;
    return {
      url: server.url,
      close: () =>
        (closing ??= (async () => {
          for (const c of connections) c.shutdown();
          await server.close();
        })()),
    };
  });
}

interface ConnectionConfig {
  source: DebugSource;
  admin: boolean;
  authTimeoutMs: number;
  maxBufferedBytes: number;
  checkToken(token: unknown): boolean;
  log: Logger | undefined;
}

type OpResult = unknown;

class Connection {
  private authed = false;
  private authTimer: NodeJS.Timeout | undefined;
  private subscription: Subscription | undefined;
  private droppedEvents = 0;
  private open = true;

  constructor(
    private readonly socket: Socket,
    private readonly config: ConnectionConfig,
    private readonly remote: string | undefined,
    private readonly onGone: () => void,
  ) {}

  start(authorization: string | string[] | undefined): void {
    this.socket.onClose(() => this.cleanup());
    this.socket.onError((err) => this.config.log?.debug({ err, remote: this.remote }, 'debug socket client error'));
    this.socket.onMessage((data, isBinary) => {
      if (!this.open) return;
      if (isBinary) return this.close(DebugCloseCodes.UNSUPPORTED_DATA, 'only text frames are accepted');
      this.onText(data.toString('utf8'));
    });
    if (authorization !== undefined) {
      const match = typeof authorization === 'string' ? /^Bearer\s+(.+)$/i.exec(authorization) : null;
      if (match && this.config.checkToken(match[1]?.trim())) this.authed = true;
      else this.refuse('invalid token');
      return;
    }
    this.authTimer = setTimeout(() => this.refuse('authentication timed out'), this.config.authTimeoutMs);
  }

  /** Server shutdown: best-effort 1001 before the server terminates the socket. */
  shutdown(): void {
    this.close(DebugCloseCodes.GOING_AWAY, 'debug server closing');
  }

  private refuse(reason: string): void {
    this.config.log?.warn({ remote: this.remote, reason }, 'debug socket refused a client');
    this.close(DebugCloseCodes.UNAUTHORIZED, reason);
  }

  private close(code: number, reason: string): void {
    if (!this.open) return;
    this.cleanup();
    this.socket.close(code, reason);
  }

  private cleanup(): void {
    this.open = false;
    clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.onGone();
  }

  private onText(text: string): void {
    const req = parseRequest(text);
    if (!this.authed) {
      if ('op' in req && req.op === 'auth' && this.config.checkToken(req.args['token'])) {
        this.authed = true;
        clearTimeout(this.authTimer);
        this.authTimer = undefined;
        return this.reply(req.id, { ok: true, result: this.hello() });
      }
      return this.refuse('op' in req && req.op === 'auth' ? 'invalid token' : 'authentication required');
    }
    if (!('op' in req)) return this.reply(req.id, { ok: false, code: DebugErrorCodes.BAD_REQUEST, message: req.error });
    this.run(req).then(
      (result) => this.reply(req.id, { ok: true, result }),
      (err: unknown) => this.reply(req.id, { ok: false, code: wireCodeOf(err), message: err instanceof Error ? err.message : String(err) }),
    );
  }

  private reply(id: RequestId, r: { ok: true; result: OpResult } | { ok: false; code: string; message: string }): void {
    if (!this.open || !this.socket.isOpen) return;
    let frame: string;
    try {
      frame = r.ok ? safeStringify({ id, ok: true, result: r.result }) : safeStringify({ id, ok: false, error: { code: r.code, message: r.message } });
    } catch (err) {
      frame = safeStringify({ id, ok: false, error: { code: DebugErrorCodes.INTERNAL, message: `result could not be serialized: ${String(err)}` } });
    }
    this.socket.send(frame);
  }

  private hello(): { node: string; admin: boolean } {
    return { node: this.config.source.node, admin: this.config.admin };
  }

  private async run(req: ParsedRequest): Promise<OpResult> {
    const { source, admin } = this.config;
    const { op, args } = req;
    if ((AdminOps as readonly string[]).includes(op) && !admin) throw new ForbiddenError(op, 'it is an admin op and this debug socket is read-only');
    switch (op) {
      case 'auth':
        if (!this.config.checkToken(args['token'])) {
          this.refuse('invalid token');
          return undefined;
        }
        return this.hello();
      case 'tree':
        return this.tree(args['includeState'] === true);
      case 'tasks':
        return { node: source.node, tasks: await source.tasks() };
      case 'resources':
        return { node: source.node, resources: await source.resources() };
      case 'migrations':
        if (!source.migrations) return { supported: false, reason: 'live migration is not available on this node yet', migrations: [] };
        return { supported: true, migrations: await source.migrations() };
      case 'controller': {
        const limit = args['limit'] ?? 100;
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('args.limit', 'must be a positive integer');
        if (!source.controller) return { supported: false, reason: 'this node runs no migration controller' };
        return { supported: true, ...((await source.controller(limit)) as object) };
      }
      case 'forecasts':
        if (!source.forecasts) return { supported: false, reason: 'this node runs no predictors', resources: [] };
        return { supported: true, resources: await source.forecasts() };
      case 'performance': {
        const horizonMs = args['horizonMs'] ?? undefined;
        if (horizonMs !== undefined && !(typeof horizonMs === 'number' && horizonMs > 0)) throw new InvalidArgumentError('args.horizonMs', 'must be a positive number of ms');
        return performanceView(source, horizonMs);
      }
      case 'controller.mode': {
        const mode = args['mode'];
        if (mode !== 'off' && mode !== 'recommend' && mode !== 'auto') throw new InvalidArgumentError('args.mode', 'must be off, recommend or auto');
        if (!source.setControllerMode) throw new NotSupportedError(op, 'this node has no migration controller');
        return { mode, result: (await source.setControllerMode(mode)) ?? null };
      }
      case 'dead-letters': {
        const limit = args['limit'] ?? 100;
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('args.limit', 'must be a positive integer');
        return source.deadLetters(limit);
      }
      case 'subscribe':
        return this.subscribe(args['types']);
      case 'unsubscribe': {
        const had = this.subscription !== undefined;
        this.subscription?.unsubscribe();
        this.subscription = undefined;
        return { unsubscribed: had };
      }
      case 'migrate': {
        const task = args['task'];
        const to = args['to'];
        if (typeof task !== 'string' || task.length === 0) throw new InvalidArgumentError('args.task', 'must be a TaskId');
        if (to !== undefined && typeof to !== 'string') throw new InvalidArgumentError('args.to', 'must be a resource id');
        if (!source.migrate) throw new NotSupportedError(op, 'live migration is not available on this node yet');
        return { task, result: (await source.migrate(to === undefined ? { task } : { task, to })) ?? null };
      }
      case 'drain': {
        const resource = args['resource'];
        if (typeof resource !== 'string' || resource.length === 0) throw new InvalidArgumentError('args.resource', 'must be a resource id');
        if (!source.drain) throw new NotSupportedError(op, 'this node cannot drain a resource yet');
        return { resource, result: (await source.drain(resource)) ?? null };
      }
      case 'controller.suspend':
        if (!source.suspendController) throw new NotSupportedError(op, 'this node has no migration controller');
        return { suspended: true, result: (await source.suspendController()) ?? null };
      case 'controller.resume':
        if (!source.resumeController) throw new NotSupportedError(op, 'this node has no migration controller');
        return { resumed: true, result: (await source.resumeController()) ?? null };
      default:
        throw new UnknownOpError(op.slice(0, 64));
    }
  }

  private async tree(includeState: boolean): Promise<OpResult> {
    const { source, admin } = this.config;
    if (includeState && !admin) throw new ForbiddenError('tree', 'includeState needs an admin debug socket');
    const [tasks, resources] = await Promise.all([source.tasks(), source.resources()]);
    const nodes = buildTree(tasks, resources);
    if (!includeState) return { nodes, state: 'omitted' };
    if (!source.taskState) return { nodes, state: 'unsupported', reason: 'this node cannot read task state' };
    await addTaskState(nodes, source.taskState.bind(source));
    return { nodes, state: 'included' };
  }

  private subscribe(types: unknown): OpResult {
    if (types !== undefined && (!Array.isArray(types) || !types.every((t) => typeof t === 'string'))) {
      throw new InvalidArgumentError('args.types', 'must be an array of event types');
    }
    const wanted = types === undefined ? undefined : new Set<string>(types as string[]);
    this.subscription?.unsubscribe();
    const { source, maxBufferedBytes } = this.config;
    this.subscription = source.observe((event) => {
      if (!this.open || (wanted && !wanted.has(event.type))) return;
      if (this.socket.bufferedAmount > maxBufferedBytes) {
        this.droppedEvents++;
        return;
      }
      const frame: Record<string, unknown> = { event: toWireEvent(event, event.node ?? source.node) };
      if (this.droppedEvents > 0) {
        frame['dropped'] = this.droppedEvents;
        this.droppedEvents = 0;
      }
      this.socket.send(safeStringify(frame));
    });
    return { subscribed: true, types: types === undefined ? 'all' : (types as RuntimeEventType[]) };
  }
}
