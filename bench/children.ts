/** Child processes of the benchmarks: started, read until they print their JSON, stopped. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/**
 * Node flags for every child: this process's heap sizing flags, then `GODWIT_BENCH_CHILD_FLAGS`
 * (space-separated), e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the other processes.
 */
const childFlags = [
  // A heap sized on this process's command line (docs/migration.md, "The pause and V8's heap") sizes the other nodes' too.
  ...process.execArgv.filter((f) => /^--(initial-old-space-size|max-old-space-size|max-semi-space-size)=/.test(f)),
  ...(process.env['GODWIT_BENCH_CHILD_FLAGS'] ?? '').split(' ').filter((f) => f.length > 0),
];

/** Starts `node args...` and resolves with the first JSON object it prints on stdout. */
export async function startChild(args: string[]): Promise<{ child: ChildProcess; info: Record<string, unknown> }> {
  const child = spawn(process.execPath, [...childFlags, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  let text = '';
  for await (const line of lines) {
    text += line;
    try {
      const info = JSON.parse(text) as Record<string, unknown>;
      lines.close();
      return { child, info };
    } catch {
      // a pretty-printed object spans lines
    }
  }
  throw new Error(`child ${args.join(' ')} exited before it was ready`);
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.stdin?.end();
  child.kill('SIGTERM');
  await exited;
}

