/**
 * The migration controller: every `intervalMs` it reads the cluster (resources with forecasts,
 * tasks with their load), plans one tick (`planTick`: evacuate, balance, pack) and, in `auto`
 * mode, starts the moves it decided on, each as a migration job it tracks until the migration
 * reports. `recommend` records the same decisions and moves nothing; `off` does not tick;
 * `suspend()` is the kill switch. Every decision is an event (`controller.decision`) and stays in
 * a bounded history with the cost terms behind it.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Clock, TimerHandle } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import type { RuntimeEvent } from '../runtime/event-types.js';
import type { MigrationReport } from '../runtime/migration.js';
import type { DebugResource, DebugTask } from '../runtime/debug-source.js';
import type { AnyTaskDefinition } from './task.js';
import { Damper } from '../controller/damping.js';
import type { ForecastSource } from '../controller/forecasts.js';
import type { Decision } from '../controller/model.js';
import { ControllerModes, resolvePolicy, type ControllerMode, type PolicyOptions, type ResolvedPolicy } from '../controller/options.js';
import { planTick } from '../controller/plan.js';
import { buildView } from '../controller/view.js';

export interface ControllerOptions extends PolicyOptions {
  /** `off` (default), `recommend` (decide and record, move nothing) or `auto`. */
  mode?: ControllerMode;
  /** Control interval, ms (default 1000). */
  intervalMs?: number;
  /** Decisions kept for `decisions()` and `godwit inspect migrations` (default 1000). */
  historySize?: number;
  /** How moves copy state across nodes (default `pre-copy`). */
  migrationMode?: 'pre-copy' | 'stop-and-copy';
  /** Link bandwidth assumed until migrations have measured one, bytes/s (default 100 MB/s). */
  linkBytesPerS?: number;
}

/** What the controller needs from the node it runs on (the RMS, or a single-process runtime). */
export interface ControllerHost {
  readonly clock: Clock;
  readonly log: Logger;
  resources(): Promise<readonly DebugResource[]>;
  tasks(): Promise<readonly DebugTask[]>;
  definition(task: string): AnyTaskDefinition | undefined;
  forecasts: ForecastSource;
  migrate(taskId: string, to: string, mode: 'pre-copy' | 'stop-and-copy'): Promise<MigrationReport>;
  setPowerState(resource: string, state: 'active' | 'idle'): Promise<void>;
  emit(event: RuntimeEvent): void;
}

export interface ControllerStatus {
  mode: ControllerMode;
  suspended: boolean;
  intervalMs: number;
  ticks: number;
  lastTickAtMs: number | null;
  /** Tasks looked at in the last tick. */
  evaluated: number;
  inFlight: number;
  movesLastMinute: number;
  moves: number;
  /** Measured link bandwidth the cost model uses, bytes/s. */
  linkBytesPerS: number;
  /** Energy of every resource (from its power model and power state) at the last tick, J, and their sum. */
  energy: { totalJ: number; resources: Record<string, number> };
  /** Resources powered down by power-aware mode at the last tick. */
  idle: string[];
  policy: ResolvedPolicy;
}

export class MigrationController {
  readonly policy: ResolvedPolicy;
  readonly intervalMs: number;
  private modeValue: ControllerMode;
  private suspendedValue = false;
  private readonly damper: Damper;
  private readonly history: Decision[] = [];
  private readonly historySize: number;
  private readonly migrationMode: 'pre-copy' | 'stop-and-copy';
  private readonly jobs = new Map<string, Promise<MigrationReport | undefined>>();
  private readonly pendingIdle = new Set<string>();
  private timer: TimerHandle | undefined;
  private ticking: Promise<Decision[]> | undefined;
  private previous: { atMs: number; processed: Map<string, number> } | undefined;
  private ticks = 0;
  private moves = 0;
  private evaluated = 0;
  private lastTickAtMs: number | null = null;
  private linkBytesPerS: number;
  private stopped = false;
  private energy: { totalJ: number; resources: Record<string, number> } = { totalJ: 0, resources: {} };
  private idleNow: string[] = [];

  constructor(
    private readonly host: ControllerHost,
    options: ControllerOptions = {},
  ) {
    const { mode, intervalMs, historySize, migrationMode, linkBytesPerS, ...policy } = options;
    this.policy = resolvePolicy(policy);
    this.modeValue = checkMode(mode ?? 'off');
    this.intervalMs = intervalMs ?? 1000;
    if (!(this.intervalMs > 0)) throw new InvalidArgumentError('controller.intervalMs', 'must be a positive number of ms');
    this.historySize = historySize ?? 1000;
    if (!(Number.isInteger(this.historySize) && this.historySize > 0)) throw new InvalidArgumentError('controller.historySize', 'must be a positive integer');
    this.migrationMode = migrationMode ?? 'pre-copy';
    this.linkBytesPerS = linkBytesPerS ?? 100e6;
    if (!(this.linkBytesPerS > 0)) throw new InvalidArgumentError('controller.linkBytesPerS', 'must be positive');
    this.damper = new Damper(this.policy);
  }

  get mode(): ControllerMode {
    return this.modeValue;
  }

  get suspended(): boolean {
    return this.suspendedValue;
  }

  /** Starts ticking every `intervalMs` (ticks skip while the mode is `off` or the controller is suspended). */
  start(): void {
    if (this.timer || this.stopped) return;
    const loop = () => {
      this.timer = undefined;
      if (this.stopped) return;
      const next = () => {
        if (!this.stopped) this.timer = this.host.clock.setTimer(loop, this.intervalMs);
      };
      if (this.modeValue === 'off' || this.suspendedValue) next();
      else this.tick().then(next, (err: unknown) => {
        this.host.log.error({ err }, 'controller tick failed');
        next();
      });
    };
    this.timer = this.host.clock.setTimer(loop, this.intervalMs);
  }

  /** Stops ticking and waits for the migrations it started. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
    await Promise.allSettled([...this.jobs.values()]);
  }

  setMode(mode: ControllerMode): void {
    this.modeValue = checkMode(mode);
  }

  suspend(): void {
    this.suspendedValue = true;
  }

  resume(): void {
    this.suspendedValue = false;
  }

  /** The most recent decisions, oldest first. */
  decisions(limit = this.historySize): Decision[] {
    return this.history.slice(Math.max(0, this.history.length - limit));
  }

  status(): ControllerStatus {
    return {
      mode: this.modeValue,
      suspended: this.suspendedValue,
      intervalMs: this.intervalMs,
      ticks: this.ticks,
      lastTickAtMs: this.lastTickAtMs,
      evaluated: this.evaluated,
      inFlight: this.jobs.size,
      movesLastMinute: this.damper.movesLastMinute(this.host.clock.now()),
      moves: this.moves,
      linkBytesPerS: this.linkBytesPerS,
      energy: this.energy,
      idle: this.idleNow,
      policy: this.policy,
    };
  }

  /** Runs one control interval now (whatever the timer) and resolves with its decisions. */
  tick(): Promise<Decision[]> {
    const run = (this.ticking ?? Promise.resolve([])).catch(() => []).then(() => this.runTick());
    this.ticking = run;
    return run;
  }

  /** Resolves once every migration started so far has reported. */
  async settled(): Promise<void> {
    while (this.jobs.size > 0) await Promise.allSettled([...this.jobs.values()]);
  }

  private async runTick(): Promise<Decision[]> {
    const clock = this.host.clock;
    const [resources, tasks] = await Promise.all([this.host.resources(), this.host.tasks()]);
    const nowMs = clock.now();
    const energy: Record<string, number> = {};
    for (const r of resources) energy[r.id] = r.energyJ;
    this.energy = { totalJ: resources.reduce((sum, r) => sum + r.energyJ, 0), resources: energy };
    this.idleNow = resources.filter((r) => r.powerState === 'idle').map((r) => r.id);
    await this.idlePending(resources);
    this.host.forecasts.refresh?.(nowMs);
    const view = buildView({
      nowMs,
      resources,
      tasks,
      definition: (t) => this.host.definition(t),
      forecasts: this.host.forecasts,
      horizonMs: this.policy.horizonMs,
      previous: this.previous,
      moving: new Set(this.jobs.keys()),
      inFlight: this.jobs.size,
      linkBytesPerS: this.linkBytesPerS,
      failureForecasts: this.policy.policy !== 'reactive',
    });
    this.previous = { atMs: nowMs, processed: new Map(tasks.map((t) => [t.id, t.processed])) };
    const { decisions, evaluated } = planTick(view, this.policy, this.damper);
    this.ticks++;
    this.evaluated = evaluated;
    this.lastTickAtMs = nowMs;
    const auto = this.modeValue === 'auto' && !this.suspendedValue;
    for (const d of decisions) {
      if (auto) await this.execute(d);
      this.remember(d);
    }
    return decisions;
  }

  private async execute(d: Decision): Promise<void> {
    if (d.action === 'wake' || d.action === 'idle') {
      if (d.action === 'idle' && d.reason === 'packed') {
        this.pendingIdle.add(d.resource);
        d.executed = true;
        return;
      }
      d.executed = await this.power(d.resource, d.action === 'wake' ? 'active' : 'idle');
      return;
    }
    if ((d.action !== 'move' && d.action !== 'evacuate' && d.action !== 'pack') || d.task === null || d.to === null) return;
    const taskId = d.task;
    const to = d.to;
    this.moves++;
    d.executed = true;
    const job = this.host
      .migrate(taskId, to, this.migrationMode)
      .then(
        (report) => {
          this.learnBandwidth(report);
          return report;
        },
        (err: unknown) => {
          this.host.log.warn({ err, task: taskId, resource: to }, 'controller migration failed to start');
          return undefined;
        },
      )
      .finally(() => this.jobs.delete(taskId));
    this.jobs.set(taskId, job);
  }

  private async power(resource: string, state: 'active' | 'idle'): Promise<boolean> {
    try {
      await this.host.setPowerState(resource, state);
      return true;
    } catch (err) {
      this.host.log.warn({ err, resource }, 'controller could not change a resource power state');
      return false;
    }
  }

  /** Resources emptied by a pack are idled once their last task has left. */
  private async idlePending(resources: readonly DebugResource[]): Promise<void> {
    for (const id of [...this.pendingIdle]) {
      const r = resources.find((x) => x.id === id);
      if (!r || r.status === 'failed') this.pendingIdle.delete(id);
      else if (r.tasks === 0) {
        this.pendingIdle.delete(id);
        await this.power(id, 'idle');
      }
    }
  }

  private learnBandwidth(report: MigrationReport): void {
    if (report.outcome !== 'committed' || report.bytes < 1 << 20 || !(report.totalMs > 0)) return;
    const measured = report.bytes / (report.totalMs / 1000);
    this.linkBytesPerS = 0.7 * this.linkBytesPerS + 0.3 * measured;
  }

  private remember(d: Decision): void {
    this.history.push(d);
    if (this.history.length > this.historySize) this.history.splice(0, this.history.length - this.historySize);
    this.host.emit({ type: 'controller.decision', timeMs: d.atMs, decision: d });
  }
}

function checkMode(mode: unknown): ControllerMode {
  if (!(ControllerModes as readonly unknown[]).includes(mode)) throw new InvalidArgumentError('controller.mode', `must be one of ${ControllerModes.join(', ')}, got ${String(mode)}`);
  return mode as ControllerMode;
}
