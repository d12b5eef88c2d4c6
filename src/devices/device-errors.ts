/**
 * Typed errors of the device plugins and trace readers. None of them is thrown out of a plugin's
 * `sample()`: plugins log them (once per problem, see `ProblemLog`), emit them as `error` events
 * and report the affected metrics as `null`. Trace readers reject with `TraceFormatError`.
 *
 * - `DeviceSourceError` (`GODWIT_ERR_DEVICE_SOURCE`): a metric source (a /proc or /sys file, a
 *   line of a vendor tool's output, a JSON document) is unreadable or does not parse.
 * - `DeviceCommandError` (`GODWIT_ERR_DEVICE_COMMAND`): a vendor command (nvidia-smi, xbutil)
 *   is missing, not permitted, exited non-zero, was killed, or ran past its time limit.
 * - `TraceFormatError` (`GODWIT_ERR_TRACE_FORMAT`): a trace file is unreadable or has a line
 *   that does not parse; names the file and the 1-based line.
 */
import { type ErrorCode, ErrorCodes, GodwitError } from '../errors.js';

export const DeviceErrorCodes = {
  DEVICE_SOURCE: ErrorCodes.DEVICE_SOURCE,
  DEVICE_COMMAND: ErrorCodes.DEVICE_COMMAND,
  TRACE_FORMAT: ErrorCodes.TRACE_FORMAT,
} as const;

export type DeviceErrorCode = (typeof DeviceErrorCodes)[keyof typeof DeviceErrorCodes];

function deviceCode(code: DeviceErrorCode): ErrorCode {
  return code;
}

export interface DeviceSourceErrorData {
  /** The plugin that read the source (`cpu`, `nvidia-smi`, `xbutil`, ...). */
  plugin: string;
  /** A file path, or `<command> stdout`. */
  source: string;
  /** What is wrong, as a lowercase phrase. */
  reason: string;
  /** 1-based line inside the source, where known. */
  line?: number;
  /** The metric(s) that go null because of it. */
  metric?: string;
  cause?: unknown;
}

export class DeviceSourceError extends GodwitError {
  readonly plugin: string;
  readonly source: string;
  readonly reason: string;
  readonly line: number | undefined;
  readonly metric: string | undefined;

  constructor(data: DeviceSourceErrorData) {
    super(
      deviceCode(DeviceErrorCodes.DEVICE_SOURCE),
      `device source ${data.source}${data.line === undefined ? '' : ` line ${data.line}`} of plugin ${data.plugin} is unusable: ${data.reason}`,
      data.cause === undefined ? undefined : { cause: data.cause },
    );
    this.plugin = data.plugin;
    this.source = data.source;
    this.reason = data.reason;
    this.line = data.line;
    this.metric = data.metric;
  }
}

/** The same error naming the metric it nulls (unchanged when it already names one). */
export function withMetric(err: DeviceSourceError, metric: string): DeviceSourceError {
  if (err.metric !== undefined) return err;
  return new DeviceSourceError({
    plugin: err.plugin,
    source: err.source,
    reason: err.reason,
    metric,
    ...(err.line === undefined ? {} : { line: err.line }),
    ...(err.cause === undefined ? {} : { cause: err.cause }),
  });
}

export const CommandFailures = {
  /** The command does not exist (ENOENT). */
  NOT_FOUND: 'not-found',
  /** The command exists but may not be run (EACCES, EPERM). */
  NOT_PERMITTED: 'not-permitted',
  /** It exited with a non-zero status. */
  EXIT: 'exit',
  /** It was killed by a signal it was not sent by godwit. */
  SIGNAL: 'signal',
  /** It ran past its time limit and was killed. */
  TIMEOUT: 'timeout',
  /** It wrote more than the output limit and was killed. */
  OUTPUT_TOO_LARGE: 'output-too-large',
  /** godwit stopped it (the plugin was closed while it ran). */
  ABORTED: 'aborted',
  /** Any other spawn failure. */
  SPAWN: 'spawn',
} as const;

export type CommandFailure = (typeof CommandFailures)[keyof typeof CommandFailures];

export interface DeviceCommandErrorData {
  plugin: string;
  command: string;
  failure: CommandFailure;
  exitCode?: number | null;
  signal?: string | null;
  timeoutMs?: number;
  /** The end of what it wrote to stderr (or stdout when stderr was empty), trimmed. */
  output?: string;
  cause?: unknown;
}

export class DeviceCommandError extends GodwitError {
  readonly plugin: string;
  readonly command: string;
  readonly failure: CommandFailure;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timeoutMs: number | undefined;
  readonly output: string;

  constructor(data: DeviceCommandErrorData) {
    super(deviceCode(DeviceErrorCodes.DEVICE_COMMAND), commandMessage(data), data.cause === undefined ? undefined : { cause: data.cause });
    this.plugin = data.plugin;
    this.command = data.command;
    this.failure = data.failure;
    this.exitCode = data.exitCode ?? null;
    this.signal = data.signal ?? null;
    this.timeoutMs = data.timeoutMs;
    this.output = data.output ?? '';
  }
}

function commandMessage(d: DeviceCommandErrorData): string {
  const what = `command ${d.command} of plugin ${d.plugin}`;
  const tail = d.output ? `: ${d.output}` : '';
  switch (d.failure) {
    case CommandFailures.NOT_FOUND:
      return `${what} was not found`;
    case CommandFailures.NOT_PERMITTED:
      return `${what} may not be run (permission denied)`;
    case CommandFailures.EXIT:
      return `${what} exited with status ${String(d.exitCode)}${tail}`;
    case CommandFailures.SIGNAL:
      return `${what} was killed by ${String(d.signal)}${tail}`;
    case CommandFailures.TIMEOUT:
      return `${what} ran past its limit of ${String(d.timeoutMs)} ms and was killed`;
    case CommandFailures.OUTPUT_TOO_LARGE:
      return `${what} wrote more output than allowed and was killed`;
    case CommandFailures.ABORTED:
      return `${what} was stopped because the plugin closed`;
    default:
      return `${what} could not be started${d.cause instanceof Error ? `: ${d.cause.message}` : ''}`;
  }
}

export type DeviceError = DeviceSourceError | DeviceCommandError;

export class TraceFormatError extends GodwitError {
  constructor(
    /** The trace file, as given. */
    readonly file: string,
    /** 1-based line number, 0 when the whole file is at fault (unreadable, empty, no such column). */
    readonly line: number,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(
      deviceCode(DeviceErrorCodes.TRACE_FORMAT),
      `trace ${file}${line > 0 ? ` line ${line}` : ''} is malformed: ${reason}`,
      cause === undefined ? undefined : { cause },
    );
  }
}
