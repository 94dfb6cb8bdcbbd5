/**
 * npm run lab4:load -- [--url http://127.0.0.1:5000] [--writes 10000] [--concurrency 20] [--keys 100]
 * The original's performance test against a running cluster: writes to the leader, then the latency figures and
 * the consistency check.
 */
import { Command, Option } from 'commander';
import { checkConsistency, formatLoad, runLoad } from './lib';
import { colorsFor } from '../../suite/colors';

const pc = colorsFor();

const program = new Command()
  .name('npm run lab4:load --')
  .description('Load-test a running lab 4 cluster (start one with npm run lab4:cluster).')
  .addOption(new Option('--url <url>', 'the leader').env('LEADER_URL').default('http://127.0.0.1:5000'))
  .option('--writes <n>', 'total writes', '10000')
  .option('--concurrency <n>', 'writes in flight at once', '20')
  .option('--keys <n>', 'distinct keys', '100')
  .option('--no-check', 'skip the consistency check')
  .parse();

async function main(): Promise<void> {
  const o = program.opts<{ url: string; writes: string; concurrency: string; keys: string; check: boolean }>();
  const spec = { url: o.url, writes: Number(o.writes), concurrency: Number(o.concurrency), keys: Number(o.keys) };
  for (const [k, v] of Object.entries(spec))
    if (k !== 'url' && !(Number.isInteger(v) && (v as number) >= 1))
      throw new Error(`--${k} must be a whole number >= 1`);
  console.log(`${spec.writes} writes to ${spec.url}, ${spec.concurrency} at a time, over ${spec.keys} keys ...`);
  const result = await runLoad(spec);
  console.log(formatLoad(result).join('\n'));
  if (result.ok === 0) throw new Error(`no write succeeded: ${result.errors.join('; ') || 'is the cluster running?'}`);
  if (o.check) {
    console.log('\nconsistency check:');
    const report = await checkConsistency(spec.url);
    console.log(report.lines.join('\n'));
    if (!report.consistent) process.exitCode = 1;
  }
  if (result.failed > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(pc.red(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
