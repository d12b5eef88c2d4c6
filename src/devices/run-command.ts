/**
 * Runs a vendor command once (nvidia-smi discovery, xbutil examine) with a time limit on the
 * injected clock and an output limit; resolves with its output only when it exited with status 0
 * and has closed its pipes, so nothing is left running or open whatever happens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Clock } from '../runtime/clock.js';
import { type CommandFailure, CommandFailures, DeviceCommandError } from './device-errors.js';

export interface RunCommandOptions {
  /** The plugin running it, for errors. */
  plugin: string;
  command: string;
  args: readonly string[];
  clock: Clock;
  /** Killed (SIGKILL) after this long on `clock`. */
  timeoutMs: number;
  /** Killed when stdout passes this size (default 16 MiB). */
  maxOutputBytes?: number;
  /** Aborting kills the command (SIGKILL); the promise rejects with failure `aborted`. */
  signal?: AbortSignal;
}

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** Maps a spawn error (ENOENT, EACCES) to a command failure. */
export function spawnFailure(err: unknown): CommandFailure {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return CommandFailures.NOT_FOUND;
  if (code === 'EACCES' || code === 'EPERM') return CommandFailures.NOT_PERMITTED;
  return CommandFailures.SPAWN;
}

/** The last `max` characters of a command's output, trimmed, for error messages. */
export function outputTail(text: string, max = 500): string {
  const t = text.trim();
  return t.length > max ? `...${t.slice(-max)}` : t;
}

export function runCommand(options: RunCommandOptions): Promise<CommandOutput> {
  const { plugin, command, args, clock, timeoutMs } = options;
  const maxOutputBytes = options.maxOutputBytes ?? 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      reject(new DeviceCommandError({ plugin, command, failure: spawnFailure(err), cause: err }));
      return;
    }
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    let outBytes = 0;
    let killedFor: CommandFailure | undefined;
    let spawnError: unknown;
    const kill = (why: CommandFailure): void => {
      if (killedFor) return;
      killedFor = why;
      child.kill('SIGKILL');
      // Settle now: a grandchild (a wrapper script's) or a process stuck in the kernel can keep
      // the pipes open long after the kill, and the caller's time limit must hold anyway.
      child.stdout?.destroy();
      child.stderr?.destroy();
      finish(null, 'SIGKILL');
    };
    const timer = clock.setTimer(() => kill(CommandFailures.TIMEOUT), timeoutMs);
    const onAbort = (): void => kill(CommandFailures.ABORTED);
    options.signal?.addEventListener('abort', onAbort);
    if (options.signal?.aborted) onAbort();
    child.stdout?.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > maxOutputBytes) kill(CommandFailures.OUTPUT_TOO_LARGE);
      else out.push(b);
    });
    child.stderr?.on('data', (b: Buffer) => {
      if (errOut.reduce((n, x) => n + x.length, 0) < 64 * 1024) errOut.push(b);
    });
    child.on('error', (err) => {
      spawnError = err;
      // A failed spawn emits no 'close' on some Node versions; the streams are already gone.
      if (child.pid === undefined) finish(null, null);
    });
    let done = false;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      timer.cancel();
      options.signal?.removeEventListener('abort', onAbort);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(errOut).toString('utf8');
      const output = outputTail(stderr || stdout);
      if (spawnError !== undefined && child.pid === undefined) {
        reject(new DeviceCommandError({ plugin, command, failure: spawnFailure(spawnError), cause: spawnError }));
      } else if (killedFor) {
        reject(new DeviceCommandError({ plugin, command, failure: killedFor, timeoutMs, output }));
      } else if (signal) {
        reject(new DeviceCommandError({ plugin, command, failure: CommandFailures.SIGNAL, signal, output }));
      } else if (exitCode !== 0) {
        reject(new DeviceCommandError({ plugin, command, failure: CommandFailures.EXIT, exitCode, output }));
      } else resolve({ stdout, stderr });
    };
    child.on('close', finish);
  });
}
