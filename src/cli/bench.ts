/** `godwit bench NAME|all [--json] [--quick]`: runs benchmarks from bench/, each against its own baseline. */
import { benches } from '../../bench/index.js';
import { benchReport, formatReport, type BenchReport } from '../../bench/report.js';
import type { Output } from './output.js';

export const benchNames = (): string[] => Object.keys(benches);

export async function runBench(name: string, options: { quick: boolean }, out: Output): Promise<number> {
  const names = name === 'all' ? benchNames() : [name];
  const unknown = names.filter((n) => !(n in benches));
  if (unknown.length > 0) {
    out.error(`unknown benchmark ${unknown.join(', ')} (known: ${benchNames().join(', ')}, all)`);
    return 2;
  }
  const reports: BenchReport[] = [];
  for (const n of names) {
    const bench = await benches[n]!();
    out.line(`running ${bench.name}: ${bench.description}`);
    const report = benchReport(bench.name, await bench.run(options));
    reports.push(report);
    out.line(formatReport(report));
    out.line();
  }
  if (out.json) out.result(reports.length === 1 ? reports[0] : { benches: reports });
  return 0;
}
