/** Everything the CLI prints goes through here: text or one JSON object on stdout, logs on stderr. */

export interface Output {
  readonly json: boolean;
  /** Whether stdout is a terminal (and not JSON mode): live views redraw in place only then. */
  readonly tty: boolean;
  /** A line of human-readable text (suppressed in JSON mode). */
  line(text?: string): void;
  /** Text exactly as given, no newline added (suppressed in JSON mode): terminal control for live views. */
  raw(text: string): void;
  /** The one JSON object of a `--json` run. */
  result(value: unknown): void;
  /** An error line on stderr. */
  error(text: string): void;
  /** A progress or information line on stderr (also in JSON mode). */
  note(text: string): void;
}

export function createOutput(json: boolean, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    tty: !json && (out as NodeJS.WriteStream).isTTY === true,
    line(text = '') {
      if (!json) out.write(`${text}\n`);
    },
    raw(text) {
      if (!json) out.write(text);
    },
    result(value) {
      out.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    error(text) {
      err.write(`godwit: ${text}\n`);
    },
    note(text) {
      err.write(`${text}\n`);
    },
  };
}

/** Formats rows as aligned columns under a header. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [fmt(head), ...cells.map(fmt)].join('\n');
}
