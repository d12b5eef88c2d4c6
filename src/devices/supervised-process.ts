/**
 * A long-running child process (nvidia-smi -lms) whose stdout is read line by line and which is
 * restarted with exponential backoff on the injected clock when it ends. A command that does not
 * exist or may not be run is not restarted (no retry storm on a host without the tool).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Clock, TimerHandle } from '../runtime/clock.js';
import { CommandFailures, DeviceCommandError } from './device-errors.js';
import { outputTail, spawnFailure } from './run-command.js';

/** How long a stopped stream gets to exit after SIGTERM before SIGKILL, ms. */
const STOP_GRACE_MS = 2000;

export interface RestartOptions {
  /** First restart delay (default 1000 ms). */
  initialMs?: number;
  /** Longest restart delay (default 60 000 ms). */
  maxMs?: number;
  /** Delay multiplier per consecutive early exit (default 2). */
  factor?: number;
  /** A process that ran at least this long resets the delay to `initialMs` (default 30 000 ms). */
  stableAfterMs?: number;
}

export interface SupervisedProcessOptions {
  plugin: string;
  command: string;
  args: readonly string[];
  clock: Clock;
  restart?: RestartOptions;
  onLine(line: string, lineNumber: number): void;
  onStarted(pid: number | undefined): void;
  /** The process ended; `restartInMs` is null when it will not be restarted (gone, or stopped). */
  onExited(err: DeviceCommandError | undefined, restartInMs: number | null): void;
}

export class SupervisedProcess {
  private child: ChildProcess | undefined;
  private closed: Promise<void> | undefined;
  private timer: TimerHandle | undefined;
  private attempt = 0;
  private stopped = false;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly stableAfterMs: number;
  /** Clock time of the next restart, while one is scheduled. */
  nextStartAtMs: number | undefined;

  constructor(private readonly o: SupervisedProcessOptions) {
    this.initialMs = o.restart?.initialMs ?? 1000;
    this.maxMs = o.restart?.maxMs ?? 60_000;
    this.factor = o.restart?.factor ?? 2;
    this.stableAfterMs = o.restart?.stableAfterMs ?? 30_000;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the process unless it runs, waits for a restart, or was stopped. */
  start(): void {
    if (this.stopped || this.child || this.timer) return;
    this.spawnOnce();
  }

  /**
   * Stops it for good: cancels a pending restart, sends SIGTERM, and SIGKILL after
   * `STOP_GRACE_MS` if it is still there; settles once the process exited, without waiting for
   * pipes a grandchild may hold open.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.nextStartAtMs = undefined;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.kill('SIGTERM');
    const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(grace);
    child.stdout?.destroy();
    child.stderr?.destroy();
    await Promise.race([this.closed, new Promise((resolve) => setImmediate(resolve))]);
  }

  private spawnOnce(): void {
    const { command, args, clock } = this.o;
    const startedAtMs = clock.now();
    let child: ChildProcess;
    let spawnError: unknown;
    try {
      child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.ended(undefined, err, null, null, startedAtMs, '');
      return;
    }
    this.child = child;
    let stderr = '';
    let lineNumber = 0;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      stderr = (stderr + s).slice(-4096);
    });
    const lines = child.stdout ? createInterface({ input: child.stdout, crlfDelay: Infinity }) : undefined;
    lines?.on('line', (line) => {
      if (!this.stopped) this.o.onLine(line, ++lineNumber);
    });
    this.closed = new Promise((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (done) return;
        done = true;
        lines?.close();
        this.ended(child, spawnError, code, signal, startedAtMs, stderr);
        resolve();
      };
      child.on('error', (err) => {
        spawnError = err;
        if (child.pid === undefined) finish(null, null);
      });
      child.on('close', finish);
    });
    if (child.pid !== undefined) this.o.onStarted(child.pid);
  }

  private ended(
    child: ChildProcess | undefined,
    spawnError: unknown,
    exitCode: number | null,
    signal: NodeJS.Signals | null,
    startedAtMs: number,
    stderr: string,
  ): void {
    if (this.child === child) this.child = undefined;
    const { plugin, command } = this.o;
    if (this.stopped) {
      this.o.onExited(undefined, null);
      return;
    }
    if (spawnError !== undefined && child?.pid === undefined) {
      const failure = spawnFailure(spawnError);
      const err = new DeviceCommandError({ plugin, command, failure, cause: spawnError });
      if (failure === CommandFailures.NOT_FOUND || failure === CommandFailures.NOT_PERMITTED) {
        this.o.onExited(err, null);
        return;
      }
      this.scheduleRestart(err, startedAtMs);
      return;
    }
    const output = outputTail(stderr);
    const err = signal
      ? new DeviceCommandError({ plugin, command, failure: CommandFailures.SIGNAL, signal, output })
      : new DeviceCommandError({ plugin, command, failure: CommandFailures.EXIT, exitCode, output });
    this.scheduleRestart(err, startedAtMs);
  }

  private scheduleRestart(err: DeviceCommandError, startedAtMs: number): void {
    const { clock } = this.o;
    if (clock.now() - startedAtMs >= this.stableAfterMs) this.attempt = 0;
    const delayMs = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    this.nextStartAtMs = clock.now() + delayMs;
    this.timer = clock.setTimer(() => {
      this.timer = undefined;
      this.nextStartAtMs = undefined;
      if (!this.stopped) this.spawnOnce();
    }, delayMs);
    this.o.onExited(err, delayMs);
  }
}
