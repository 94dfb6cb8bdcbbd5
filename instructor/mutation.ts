/**
 * `npm run mutation -- labN [options]`: mutation testing of solutions/labN against lab N's named tests with
 * StrykerJS; writes the HTML and JSON reports and survivors.md (score, undetected mutants) to reports/mutation/labN/.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { listNames } from '../grader/errors';
import type { LabSuite } from '../suite/types';
import { CONCURRENCY_ENV, FILES_ENV, LAB_ENV, SEEDS_ENV, TESTS_ENV } from './mutation/env';
import { scoreLine, writeSurvivors } from './mutation/survivors';

const ROOT = path.resolve(__dirname, '..');
const CONFIG = path.join('instructor', 'mutation', 'stryker.config.mjs');
const STRYKER = path.join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
/** Files of a solution folder that are not part of the solution. */
const NOT_MUTATED = new Set(['mutants.ts', 'variants.ts']);

const EXAMPLES = `
Examples:
  npm run mutation -- lab2                                  every solution file of lab 2, every named test
  npm run mutation -- lab5 --files server.ts,persistence.ts  only these solution files
  npm run mutation -- lab1 --seeds 1,2 --concurrency 1

Each mutant runs only the named tests that reach the code it changes, on the seeds given (memory and
real-time tests on the first seed only), and counts as detected when one of them fails or times out.
Reports: reports/mutation/<lab>/index.html, mutation.json and survivors.md.
`;

/** A wrong command line: the message says what was wrong (exit code 2). */
class UsageError extends Error {}

interface MutationOptions {
  lab: string;
  files?: string[];
  seeds: string;
  tests?: string[];
  concurrency: number;
}

/** Labs that have both a suite and a reference solution. */
function mutableLabs(): string[] {
  return fs
    .readdirSync(ROOT)
    .filter(
      (n) =>
        /^lab\d+$/.test(n) &&
        fs.existsSync(path.join(ROOT, n, 'test', 'suite.ts')) &&
        fs.existsSync(path.join(ROOT, 'solutions', n)),
    )
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
}

/** Checks the command line against the repository; throws UsageError naming what is wrong. */
function validate(
  lab: string,
  raw: { files?: string; seeds: string; test?: string[]; concurrency: string },
): MutationOptions {
  const labs = mutableLabs();
  if (!labs.includes(lab)) {
    throw new UsageError(
      `"${lab}" is not a lab with a test suite and a reference solution. Labs you can mutation-test: ${listNames(labs)}. Example: npm run mutation -- lab2`,
    );
  }
  const solutionDir = path.join(ROOT, 'solutions', lab);
  const mutable = fs.readdirSync(solutionDir).filter((f) => f.endsWith('.ts') && !NOT_MUTATED.has(f));
  const files = raw.files?.split(',').map((f) => f.trim());
  for (const f of files ?? []) {
    if (!mutable.includes(f))
      throw new UsageError(`--files: "${f}" is not a solution file of ${lab}. Its files: ${listNames(mutable)}.`);
  }
  if (!/^\d+(,\d+)*$/.test(raw.seeds))
    throw new UsageError(`--seeds: "${raw.seeds}" is not a comma-separated list of whole numbers, e.g. 1,2,3.`);
  const concurrency = Number(raw.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UsageError(`--concurrency: "${raw.concurrency}" is not a whole number of processes (1 or more).`);
  if (raw.test) {
    const { suite } = require(path.join(ROOT, lab, 'test', 'suite.ts')) as { suite: LabSuite<unknown> };
    const names = suite.tests.map((t) => t.name);
    const unknown = raw.test.filter((t) => !names.includes(t));
    if (unknown.length > 0)
      throw new UsageError(`--test: ${lab} has no test named ${listNames(unknown)}. Its tests: ${listNames(names)}.`);
  }
  return { lab, files, seeds: raw.seeds, tests: raw.test, concurrency };
}

function parseArgs(argv: readonly string[]): MutationOptions {
  const program = new Command('npm run mutation --')
    .description("Mutation testing of a lab's reference solution against its named tests (StrykerJS).")
    .argument('<lab>', 'the lab, e.g. lab2')
    .option(
      '--files <list>',
      'only these solution files, comma-separated (default: every file but mutants.ts and variants.ts)',
    )
    .option('--seeds <list>', 'seeds of each simulated test, comma-separated', '1,2,3')
    .option('--test <names...>', 'only these named tests (default: all)')
    .option('--concurrency <n>', 'test runner processes at once', '2')
    .addHelpText('after', EXAMPLES)
    .exitOverride()
    .showHelpAfterError(false);
  program.parse(argv, { from: 'user' });
  return validate(program.args[0], program.opts());
}

function main(): number {
  let options: MutationOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      process.stderr.write(`Error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const { lab } = options;
  const out = path.join(ROOT, 'reports', 'mutation', lab);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [LAB_ENV]: lab,
    [SEEDS_ENV]: options.seeds,
    [CONCURRENCY_ENV]: String(options.concurrency),
  };
  if (options.files) env[FILES_ENV] = options.files.join(',');
  if (options.tests) env[TESTS_ENV] = options.tests.join(',');
  const started = Date.now();
  const run = spawnSync(process.execPath, [STRYKER, 'run', CONFIG], { cwd: ROOT, env, stdio: 'inherit' });
  const minutes = (Date.now() - started) / 60_000;
  const json = path.join(out, 'mutation.json');
  if (run.status !== 0 || !fs.existsSync(json)) {
    process.stderr.write(
      `Error: Stryker stopped (exit ${run.status ?? run.signal}) without a report; its messages are above.\n`,
    );
    return 1;
  }
  const how =
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${minutes.toFixed(1)} min: ` +
    `files ${options.files ? options.files.join(', ') : 'all but mutants.ts and variants.ts'}; tests ${options.tests ? options.tests.join(', ') : 'all'}; ` +
    `seeds ${options.seeds} (memory and real-time tests: the first); ${options.concurrency} runner process(es). ` +
    'Full report: index.html beside this file.';
  const summary = writeSurvivors(lab, json, path.join(out, 'survivors.md'), how);
  process.stdout.write(
    `\n${scoreLine(lab, summary)}\nTook ${minutes.toFixed(1)} min. Survivors: ${path.relative(process.cwd(), path.join(out, 'survivors.md'))}\n`,
  );
  return 0;
}

process.exitCode = main();
