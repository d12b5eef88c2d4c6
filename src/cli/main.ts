#!/usr/bin/env node
/** The `godwit` command line. */
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { createOutput } from './output.js';

const commands: Record<string, string> = {
  demo: 'run the built-in scenario: tasks on simulated cpu/gpu/fpga/asic resources, a fault, a failed resource, a summary [--seconds N] [--json]',
  bench: 'run a benchmark against its own baseline: godwit bench NAME|all [--json] [--quick]',
  version: 'print the version',
  help: 'this list',
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: godwit <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([c, d]) => `  ${c.padEnd(width)}  ${d}`),
    '',
    'Every command that reports takes --json and then prints one JSON object on stdout.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      seconds: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const out = createOutput(values.json ?? false);
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    out.line(usage());
    if (out.json) out.result({ commands: Object.keys(commands) });
    return command === undefined && !values.help ? 2 : 0;
  }
  switch (command) {
    case 'version': {
      const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
      out.line(pkg.version);
      if (out.json) out.result({ version: pkg.version });
      return 0;
    }
    case 'demo': {
      const seconds = values.seconds === undefined ? 3 : Number(values.seconds);
      if (!(seconds > 0)) {
        out.error(`--seconds must be a positive number, got ${values.seconds}`);
        return 2;
      }
      const { runDemo } = await import('./demo.js');
      const summary = await runDemo({ seconds }, out);
      if (out.json) out.result(summary);
      return summary.requests.lost === 0 ? 0 : 1;
    }
    case 'bench': {
      const { runBench } = await import('./bench.js');
      return runBench(rest[0] ?? 'all', { quick: values.quick ?? false }, out);
    }
    default:
      out.error(`unknown command ${command}\n${usage()}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`godwit: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
