#!/usr/bin/env node
/** The `godwit` command line. */
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { createOutput } from './output.js';

const commands: Record<string, string> = {
  demo: 'an RMS and three node processes with simulated cpu/gpu/fpga/asic devices, a load surge and a failing gpu, the migration controller at work, a summary [--policy predictive|reactive|static] [--seconds 30] [--inproc] [--trace FILE --format nab|planetlab|bitbrains] [--json]',
  bench: 'run a benchmark against its own baseline: godwit bench NAME|all [--json] [--quick]',
  inspect:
    'query a node\'s debug socket: godwit inspect [tree|resources|tasks|migrations|events|dead-letters] [--url ws://...] [--token T] [--count N] [--seconds N] [--include-state] [--json]',
  server: 'run a node with the RMS role: godwit server [--port 7420] [--host 127.0.0.1] [--secret S] [--devices host,gpu:2] [--tasks MODULE] [--debug-port P --debug-token T [--debug-admin]] [--json]',
  agent: 'run a node that owns resources and joins a server: godwit agent --join ws://HOST:PORT [--secret S] [--name N] [--devices host] [--tasks MODULE] [--json]',
  'eval-forecast':
    'rolling-origin forecast accuracy on traces: godwit eval-forecast --data FILE... [--format nab|azure|planetlab|bitbrains] [--horizons 1,3,12] [--column N|A-B] [--models all|lean] [--lstm] [--json]',
  simulate:
    'trace-driven consolidation benchmark: godwit simulate [--setup planetlab|synthetic] [--trace DIR|FILE] [--format planetlab|nab|azure|bitbrains] [--policies a,b] [--hosts N] [--seed S] [--plot FILE.svg] [--json]',
  'eval-failure': 'failure warnings on a temperature trace scored against labelled windows: godwit eval-failure --data FILE --windows labels.json [--horizon-hours 6] [--json]',
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
      url: { type: 'string' },
      token: { type: 'string' },
      count: { type: 'string' },
      'include-state': { type: 'boolean', default: false },
      name: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      join: { type: 'string' },
      secret: { type: 'string' },
      devices: { type: 'string' },
      tasks: { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'failure-timeout-ms': { type: 'string' },
      'snapshot-interval-ms': { type: 'string' },
      'log-level': { type: 'string' },
      'debug-port': { type: 'string' },
      'debug-token': { type: 'string' },
      'debug-admin': { type: 'boolean', default: false },
      data: { type: 'string', multiple: true },
      format: { type: 'string' },
      horizons: { type: 'string' },
      column: { type: 'string' },
      trace: { type: 'string' },
      setup: { type: 'string' },
      policies: { type: 'string' },
      hosts: { type: 'string' },
      seed: { type: 'string' },
      plot: { type: 'string' },
      windows: { type: 'string' },
      lstm: { type: 'boolean', default: false },
      models: { type: 'string' },
      'horizon-hours': { type: 'string' },
      policy: { type: 'string' },
      inproc: { type: 'boolean', default: false },
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
      const seconds = values.seconds === undefined ? 30 : Number(values.seconds);
      if (!(seconds > 0)) {
        out.error(`--seconds must be a positive number, got ${values.seconds}`);
        return 2;
      }
      const policy = values.policy ?? 'predictive';
      if (policy !== 'predictive' && policy !== 'reactive' && policy !== 'static') {
        out.error(`--policy must be predictive, reactive or static, got ${policy}`);
        return 2;
      }
      const format = values.format ?? 'nab';
      if (values.trace !== undefined && !['nab', 'planetlab', 'bitbrains'].includes(format)) {
        out.error(`--format must be nab, planetlab or bitbrains for --trace, got ${format}`);
        return 2;
      }
      const { runDemo } = await import('./demo.js');
      const summary = await runDemo(
        { seconds, policy, inproc: values.inproc ?? false, ...(values.trace !== undefined ? { trace: { file: values.trace, format: format as 'nab' } } : {}) },
        out,
      );
      if (out.json) out.result(summary);
      if (summary.interrupted) return 130;
      return summary.requests.lost === 0 ? 0 : 1;
    }
    case 'bench': {
      const { runBench } = await import('./bench.js');
      return runBench(rest[0] ?? 'all', { quick: values.quick ?? false }, out);
    }
    case 'inspect': {
      const { runInspect } = await import('./inspect.js');
      return runInspect(
        rest[0],
        { url: values.url, token: values.token, count: values.count, seconds: values.seconds, includeState: values['include-state'] },
        out,
      );
    }
    case 'server':
    case 'agent': {
      const { runNode } = await import('./node.js');
      return runNode(
        {
          role: command,
          name: values.name,
          host: values.host,
          port: values.port,
          join: values.join,
          secret: values.secret,
          devices: values.devices,
          tasks: values.tasks,
          heartbeatMs: values['heartbeat-ms'],
          failureTimeoutMs: values['failure-timeout-ms'],
          snapshotIntervalMs: values['snapshot-interval-ms'],
          logLevel: values['log-level'],
          debugPort: values['debug-port'],
          debugToken: values['debug-token'],
          debugAdmin: values['debug-admin'] ?? false,
        },
        out,
      );
    }
    case 'eval-forecast': {
      const { runEvalForecast } = await import('./eval-forecast.js');
      return runEvalForecast({ data: [...(values.data ?? []), ...rest], format: values.format, horizons: values.horizons, column: values.column, lstm: values.lstm ?? false, models: values.models }, out);
    }
    case 'simulate': {
      const { runSimulate } = await import('./simulate.js');
      const { trace, format, setup, policies, hosts, seed, plot } = values;
      return runSimulate({ trace, format, setup, policies, hosts, seed, plot }, out);
    }
    case 'eval-failure':
      return (await import('./eval-failure.js')).runEvalFailure({ data: values.data?.[0] ?? rest[0], windows: values.windows, horizonHours: values['horizon-hours'] }, out);
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
