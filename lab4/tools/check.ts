/**
 * npm run lab4:check -- [--url http://127.0.0.1:5000]
 * The original's consistency check: asks the leader for its followers, waits for them to hold the whole log,
 * and compares every replica's data with the leader's. Exits 1 if any differ.
 */
import { Command, Option } from 'commander';
import { checkConsistency } from './lib';
import { colorsFor } from '../../suite/colors';

const pc = colorsFor();

const program = new Command()
  .name('npm run lab4:check --')
  .description('Compare every replica of a running lab 4 cluster with the leader.')
  .addOption(new Option('--url <url>', 'the leader').env('LEADER_URL').default('http://127.0.0.1:5000'))
  .option('--settle <ms>', 'how long to wait for followers to catch up', '5000')
  .parse();

async function main(): Promise<void> {
  const o = program.opts<{ url: string; settle: string }>();
  const report = await checkConsistency(o.url, Number(o.settle));
  for (const line of report.lines) console.log(/DIFFERS|INCONSISTENT/.test(line) ? pc.red(line) : line);
  process.exitCode = report.consistent ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(
    pc.red(`cannot check ${program.opts<{ url: string }>().url}: ${err instanceof Error ? err.message : String(err)}`),
  );
  process.exit(1);
});
