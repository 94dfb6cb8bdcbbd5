/**
 * `npm run sweep`: runs the reference solutions on many seeds of every test and lists each failing seed, the proof
 * that a correct solution never loses a point. Results accumulate in instructor/sweep-record.json, one entry per test.
 */
import { Command, InvalidArgumentError } from 'commander';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { grade } from '../grader';
import { listLabs, loadLab, type LoadedLab } from '../grader/labs';

/** What the sweep knows of one test after its runs. */
export interface SweepEntry {
  readonly lab: string;
  readonly test: string;
  readonly realTime: boolean;
  /** Runs made (each on its own seed, derived from a chunk's base). */
  readonly runs: number;
  /** The first chunk's seed base (kept for entries written before chunks). */
  readonly seedBase: number;
  /** Each chunk of runs: its seed base and its count (`--runs <runs> --seed <seedBase>` repeats it). */
  readonly chunks?: readonly { readonly seedBase: number; readonly runs: number }[];
  /** Seeds that failed the reference: each one a bug of the kit. */
  readonly failingSeeds: readonly number[];
  /** The first failure's message, when there was one. */
  readonly message: string;
  /** Real seconds the runs took in all. */
  readonly seconds: number;
  /** Busy loops running beside the runs (real-time tests are swept under load). */
  readonly busyLoops: number;
  /** When the runs ended (ISO 8601). */
  readonly date: string;
}

/** The file the sweep keeps its entries in. */
export const SWEEP_FILE = path.resolve(__dirname, 'sweep-record.json');

/** Every entry recorded so far, by "lab/test". */
export function readSweep(file = SWEEP_FILE): Record<string, SweepEntry> {
  if (!fs.existsSync(file)) return {};
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, SweepEntry>;
}

/**
 * Records one entry: the file is read again and only `key` replaced, then swapped in whole, so sweeps of other
 * labs or tests running side by side keep what they recorded.
 */
export function recordEntry(key: string, entry: SweepEntry, file = SWEEP_FILE): void {
  const entries = { ...readSweep(file), [key]: entry };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const scratch = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(scratch, `${JSON.stringify(entries, null, 1)}\n`);
  fs.renameSync(scratch, file);
}

/** A loop that spins a core and ends once the sweep that started it is gone, even when it was killed. */
const BUSY_LOOP = `const parent = process.ppid; for (let i = 1; ; i++) if ((i & 0xffffff) === 0) try { process.kill(parent, 0); } catch { break; }`;

/** Starts `n` processes that spin a core each, as a loaded grading machine would; returns a function that stops them. */
function busyLoops(n: number): () => void {
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++)
    children.push(spawn(process.execPath, ['-e', BUSY_LOOP], { stdio: 'ignore', detached: false }));
  return () => children.forEach((c) => c.kill('SIGKILL'));
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1.');
  return n;
}

/** The sweep's options, as commander parsed them. */
interface SweepOptions {
  seeds: number;
  realRuns: number;
  busy: number;
  test?: string[];
  maxRunSec?: number;
  jobs: number;
  chunk: number;
  fresh?: boolean;
}

/** Parses the command line: the labs named (maybe none) and the options. */
function parseCommandLine(): { args: string[]; opts: SweepOptions } {
  const program = new Command()
    .name('npm run sweep --')
    .description(
      'Run the reference solutions on many seeds of every test; each failing seed is a bug of the kit (a test that fails correct code).',
    )
    .argument('[labs...]', 'labs to sweep (default: every lab with a suite)')
    .option('--seeds <n>', 'seeds per simulated test', positive, 1000)
    .option('--real-runs <n>', 'runs per real-time test, each under --busy busy loops', positive, 50)
    .option('--busy <n>', 'busy loops beside the real-time runs', (v) => Number(v), 2)
    .option('--test <names...>', 'only these tests')
    .option('--max-run-sec <s>', 'skip simulated tests whose one run took longer than this in a previous sweep', Number)
    .option('--jobs <n>', 'test processes side by side', positive, Math.min(2, os.cpus().length))
    .option(
      '--chunk <n>',
      'runs per chunk: the record is written after each chunk, so a stopped sweep resumes',
      positive,
      100,
    )
    .option(
      '--fresh',
      'forget earlier entries of the tests swept now (default: an entry with fewer runs is topped up, on new seeds)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  npm run sweep -- lab2 --seeds 1000\n  npm run sweep -- lab5 --real-runs 50 --busy 2\n' +
        '  npm run sweep -- lab1 --test TestMemPutManyClients --seeds 1000\n' +
        `Entries accumulate in ${path.relative(process.cwd(), SWEEP_FILE)}; a failing seed replays with ` +
        '`npm run grade <lab> -- --solution --test <Test> --seed <seed>`.',
    )
    .parse();
  return { args: program.args, opts: program.opts<SweepOptions>() };
}

/** The labs named on the command line (every lab when none is); exits with 2 on a name that is no lab. */
function selectLabs(root: string, args: readonly string[]): LoadedLab[] {
  const known = listLabs(root).map((l) => l.lab);
  const unknown = args.filter((l) => !known.includes(l));
  if (unknown.length > 0) {
    console.error(`No lab named ${unknown.join(', ')}. Labs with a suite: ${known.join(', ')}.`);
    process.exit(2);
  }
  return known.filter((l) => args.length === 0 || args.includes(l)).map((l) => loadLab(root, l));
}

/** Grades the reference solution on `runs` fresh seeds of one test (real-time ones beside busy loops); returns its entry. */
async function sweepChunk(
  lab: string,
  test: string,
  realTime: boolean,
  runs: number,
  opts: SweepOptions,
): Promise<SweepEntry> {
  const stopBusy = realTime && opts.busy > 0 ? busyLoops(opts.busy) : () => undefined;
  const started = Date.now();
  let result;
  try {
    result = await grade({
      lab,
      target: 'solution',
      tests: [test],
      runs,
      jobs: realTime ? 1 : opts.jobs,
      writeReports: false,
      traces: false,
      minimizeSec: 0,
      out: { write: () => true },
      err: { write: () => true },
    });
  } finally {
    stopBusy();
  }
  const t = result.labs[0].tests[0];
  const seedBase = result.labs[0].seedBase ?? 0;
  return {
    lab,
    test,
    realTime,
    runs,
    seedBase,
    chunks: [{ seedBase, runs }],
    failingSeeds: t.failingSeeds,
    message: t.message.split('\n').slice(0, 6).join('\n'),
    seconds: (Date.now() - started) / 1000,
    busyLoops: realTime ? opts.busy : 0,
    date: new Date().toISOString(),
  };
}

/** One entry for the runs of both: `later`'s chunks added to `earlier`'s (the first failure's message is kept). */
export function mergeEntries(earlier: SweepEntry | undefined, later: SweepEntry): SweepEntry {
  if (!earlier) return later;
  return {
    ...later,
    runs: earlier.runs + later.runs,
    seedBase: earlier.seedBase,
    chunks: [...(earlier.chunks ?? [{ seedBase: earlier.seedBase, runs: earlier.runs }]), ...(later.chunks ?? [])],
    failingSeeds: [...earlier.failingSeeds, ...later.failingSeeds],
    message: earlier.message || later.message,
    seconds: earlier.seconds + later.seconds,
    busyLoops: Math.min(earlier.busyLoops, later.busyLoops),
  };
}

/** Prints one test's line: how many runs passed, and the first failing seeds with the first failure's message. */
function printEntry(key: string, entry: SweepEntry): void {
  const shown = entry.failingSeeds.slice(0, 5).join(', ');
  console.log(
    `${key}: ${entry.runs - entry.failingSeeds.length}/${entry.runs} passed in ${entry.seconds.toFixed(0)} s` +
      (entry.failingSeeds.length > 0
        ? `; FAILED on seeds ${shown}${entry.failingSeeds.length > 5 ? ', ...' : ''}\n  ${entry.message.split('\n')[0]}`
        : ''),
  );
}

/** Sweeps every selected test not swept enough yet, recording each entry as it ends; exit code 1 if a run failed. */
async function main(): Promise<void> {
  const { args, opts } = parseCommandLine();
  const labs = selectLabs(path.resolve(__dirname, '..'), args);
  let failures = 0;
  for (const lab of labs) {
    for (const test of lab.suite.tests) {
      if (opts.test && !opts.test.includes(test.name)) continue;
      const key = `${lab.lab}/${test.name}`;
      const realTime = test.realTime === true;
      const runs = realTime ? opts.realRuns : opts.seeds;
      // Read again for each test: a sweep running side by side may have recorded it meanwhile.
      let entry = opts.fresh ? undefined : readSweep()[key];
      if (
        !realTime &&
        opts.maxRunSec !== undefined &&
        entry &&
        entry.runs < runs &&
        entry.seconds / entry.runs > opts.maxRunSec
      ) {
        console.log(`${key}: skipped (${(entry.seconds / entry.runs).toFixed(2)} s a run)`);
        continue;
      }
      const already = entry?.runs ?? 0;
      while ((entry?.runs ?? 0) < runs) {
        const chunk = await sweepChunk(
          lab.lab,
          test.name,
          realTime,
          Math.min(opts.chunk, runs - (entry?.runs ?? 0)),
          opts,
        );
        entry = mergeEntries(entry, chunk);
        recordEntry(key, entry);
      }
      if (entry) {
        failures += entry.failingSeeds.length;
        if (entry.runs > already) printEntry(key, entry);
      }
    }
  }
  console.log(
    failures === 0 ? 'No reference run failed.' : `${failures} reference run(s) failed: each is a bug of the kit.`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
}

if (require.main === module) void main();
