/** `npm run grade <lab|all> [-- options]`: turns the command line into GradeOptions, runs grade(), sets the exit code. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { colorsFor } from '../suite/colors';
import { labCodeFolder } from '../suite/solution';
import { GraderUsageError } from './errors';
import { DEFAULTS, grade } from './index';
import { DEFAULT_MINIMIZE_SEC } from './format';
import { labRoot, listLabs, loadLab } from './labs';
import { RESIDENT_ALLOWANCE_MB } from './memory-limit';
import { resultsDocument } from './reports/json';
import { parseSeed } from './seeds';
import type { GradeOptions, GradeResult, TextSink } from './types';

/** The subfolder of the default report folder that a run of selected tests (--test) writes to. */
export const SELECTED_REPORTS = 'selected';

/** A line of the examples: the command, then what it does in a column of its own. */
function example(command: string, what = ''): string {
  return what ? `  ${command.padEnd(55)}${what}` : `  ${command}`;
}

/**
 * The help's examples, for the labs that are here: the first lab and two of its tests, `all` only when there are
 * several labs, `--solution` only where the reference solutions are (never in a student template).
 */
function examples(root: string): string {
  const labs = listLabs(root).map((l) => l.lab);
  const lab = labs[0] ?? 'lab2';
  let tests = ['TestA', 'TestB'];
  try {
    tests = loadLab(root, lab).suite.tests.map((t) => t.name);
  } catch {
    // a lab that does not load: its real error comes when it is graded
  }
  const [a, b = a] = tests;
  const lines = [
    '',
    'Examples:',
    example(`npm run grade ${lab}`, `grade your code for ${lab} (every test)`),
    example(`npm run grade ${lab} -- --test ${a}`, 'run one test'),
    example(`npm run grade ${lab} -- --test ${a} ${b}`),
    example(`npm run grade ${lab} -- --test ${a} --seed 12345`),
    example('', 'replay a failure exactly (copy the command the'),
    example('', 'grader printed under the failing test)'),
    example(`npm run grade ${lab} -- --test ${a} --seed 12345 --minimize`),
    example('', 'replay it and find the fewest faults it fails with'),
    example(`npm run grade ${lab} -- --runs 20`, 'run each test with 20 different seeds'),
    ...(labs.length > 1 ? [example('npm run grade all', 'every lab, with a grand total')] : []),
    ...(fs.existsSync(path.join(root, labCodeFolder(lab, true)))
      ? [example(`npm run grade ${lab} -- --solution`, 'grade the reference solution (instructors)')]
      : []),
    example(`npm run grade ${lab} -- --json > result.json`, 'machine-readable summary on stdout'),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

const HELP_TAIL = `
Seeds: every run of a test is decided by its seed (network faults, timing, Math.random). Without --seed
each test gets a fresh seed; the seed of a failure is printed with the command that replays it.
With --runs K the seeds are derived from one base seed, printed at the top (add --seed BASE to repeat the set).

Reports: <report>/<lab>/index.html (open it in a browser), results.json, junit.xml, summary.md, the
GitHub Classroom payload (classroom.b64, classroom.json), and for failures that recorded one, the history
of operations (history-<Test>-<seed>.html). A --test run writes to <report>/${SELECTED_REPORTS}/<lab>/, so
the whole lab's report stays as it was.

Each test's line: its real time (and the virtual time it simulated), #RPCs (the messages sent through the
simulated network), #Ops (the client operations the test's clerks completed) and its points.

Exit codes: 0 every selected test passed · 1 some test failed · 2 the command or a lab's setup is wrong.
`;

/** Where the CLI writes. */
export interface CliIO {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Runs the grader for `argv` (the arguments after the script name) and resolves to the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  let parsed: { lab: string; options: GradeOptions } | undefined;
  try {
    parsed = parseArgs(argv, io);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return 0;
      return 2;
    }
    return reportError(err, io);
  }
  if (!parsed) return 0;
  let result: GradeResult;
  // On GitHub, what the grade prints holds text of the code under test (a failure's message); between these two
  // lines no line is read as a workflow command, so that text cannot add a notice Classroom would count.
  const inert = parsed.options.classroom || io.env.GITHUB_ACTIONS === 'true' ? randomBytes(16).toString('hex') : '';
  const text = parsed.options.json ? io.stderr : io.stdout; // where the grade's text goes (--json: stdout is the document)
  if (inert) text.write(`::stop-commands::${inert}\n`);
  try {
    result = await grade(parsed.options);
  } catch (err) {
    return reportError(err, io);
  } finally {
    if (inert) text.write(`::${inert}::\n`);
  }
  if (parsed.options.json) io.stdout.write(`${JSON.stringify(jsonSummary(result), null, 2)}\n`);
  return result.exitCode;
}

/** The --json document: totals and every lab's tests (without logs and printed output). */
export function jsonSummary(r: GradeResult): object {
  return {
    target: r.target,
    score: r.score,
    maxScore: r.maxScore,
    passed: r.passed,
    exitCode: r.exitCode,
    labs: r.labs.map((l) => ({ ...resultsDocument(l, false), reportDir: l.reportDir ?? null })),
  };
}

/** The flags of `npm run grade`, as commander parses them. */
interface GradeFlags {
  solution?: boolean;
  test?: string[];
  seed?: string;
  runs: string;
  json?: boolean;
  report: string;
  classroom?: boolean;
  strictManifest?: boolean;
  verbose?: boolean;
  shuffle?: boolean | string;
  budget?: string;
  cacheDir?: string;
  maxMemory: string;
  color: boolean;
  jobs?: string;
  /** true: --minimize; false: --no-minimize; undefined: neither (a fresh-seed run minimizes, a replay does not). */
  minimize?: boolean;
}

/** `npm run grade`'s command line: its argument, its options with their help, and its examples. */
function gradeCommand(io: CliIO): Command {
  return new Command('npm run grade')
    .usage('<lab|all> [-- options]')
    .description(
      'Grades a lab: runs its named tests against your code (or the reference solution), scores them by the rubric, and writes reports.',
    )
    .argument('<lab>', 'a lab such as lab2, or "all" for every lab')
    .option(
      '--solution',
      'grade the reference solution instead of your code in <lab>/ (instructors; not in a student template)',
    )
    .option('-t, --test <names...>', 'run only these tests (names as printed by the grader; several allowed)')
    .option(
      '-s, --seed <n>',
      "use this seed for every selected test (replays a simulated test exactly; real-time tests, all of lab 5 and lab 4's TestRealHttp*, only reuse it for their random data)",
    )
    .addOption(new Option('-r, --runs <k>', 'run each test k times, each with a different seed').default('1'))
    .option('--json', 'print a machine-readable summary on stdout (everything else goes to stderr)')
    .addOption(
      new Option(
        '--report <dir>',
        `folder for the reports (a --test run writes to ${DEFAULTS.reportDir}/${SELECTED_REPORTS}/, so it never replaces the whole lab's report)`,
      ).default(DEFAULTS.reportDir),
    )
    .option('--classroom', 'also write the GitHub Classroom result as `result=<base64>` to $GITHUB_OUTPUT')
    .option(
      '--strict-manifest',
      'refuse to grade when files protected by the template manifest changed (implied by --classroom and GITHUB_ACTIONS=true)',
    )
    .option(
      '--shuffle [key]',
      "run the tests in an order your code cannot predict (the report keeps the suite's order); with a secret key, the same order every time (batch grading passes one)",
    )
    .option('--verbose', 'show what your code prints while the tests run (on stderr)')
    .option(
      '--budget <sec>',
      'real time for the whole run: tests that do not fit in it score 0, but the results are still written',
    )
    .option(
      '--cache-dir <dir>',
      'where the compiled TypeScript is kept (default node_modules/.cache/kvlabs-grader; batch grading gives each submission its own)',
    )
    .addOption(
      new Option(
        '--max-memory <mb>',
        `memory limit for the tests, MB: the JavaScript heap of each test process; the whole resident memory of a test's processes (Buffers included) may be ${RESIDENT_ALLOWANCE_MB} MB more (Linux)`,
      ).default(String(DEFAULTS.heapLimitMb)),
    )
    .option(
      '--jobs <n>',
      "test processes run side by side (default: the machine's cores, at most 4; real-time tests run alone unless marked alone: false; 1 with --verbose)",
    )
    .option(
      '--minimize',
      `search for the smallest set of network faults with which a failing simulated test still fails (up to ${DEFAULT_MINIMIZE_SEC} s per failing test); the default, except with --seed, where the run is a replay`,
    )
    .option('--no-minimize', 'never search for that smallest set (a fresh-seed run otherwise does)')
    .option('--no-color', 'no colours (NO_COLOR=1 works too)')
    .addHelpText('after', () => examples(labRoot(undefined, io.env)) + HELP_TAIL)
    .showHelpAfterError('(run `npm run grade -- --help` for the options and examples)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });
}

/** The lab and the grade options of a command line (exported for the kit tests). */
export function parseArgs(argv: readonly string[], io: CliIO): { lab: string; options: GradeOptions } {
  const program = gradeCommand(io);
  program.parse([...argv], { from: 'user' });
  const o = program.opts<GradeFlags>();
  const lab = program.args[0];
  const runs = wholeNumber(o.runs, '--runs', 1);
  const heapLimitMb = wholeNumber(o.maxMemory, '--max-memory', 16);
  const tests = o.test
    ?.flatMap((t) => t.split(','))
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  return {
    lab,
    options: {
      lab,
      target: o.solution ? 'solution' : 'student',
      tests,
      seed: o.seed === undefined ? undefined : parseSeed(o.seed),
      runs,
      json: o.json ?? false,
      reportDir: reportFolder(
        tests && tests.length > 0 && program.getOptionValueSource('report') === 'default'
          ? path.join(o.report, SELECTED_REPORTS)
          : o.report,
      ),
      classroom: o.classroom ?? false,
      strictManifest: o.strictManifest ?? false,
      verbose: o.verbose ?? false,
      shuffle: o.shuffle ?? false,
      heapLimitMb,
      jobs: o.jobs === undefined ? undefined : wholeNumber(o.jobs, '--jobs', 1),
      cacheRoot: o.cacheDir === undefined ? undefined : path.resolve(o.cacheDir),
      budgetSec: o.budget === undefined ? undefined : wholeNumber(o.budget, '--budget', 10),
      color: o.color === false ? false : undefined,
      minimizeSec: minimizeSeconds(o.minimize, o.seed !== undefined),
      out: o.json ? io.stderr : io.stdout,
      err: io.stderr,
      env: io.env,
    },
  };
}

/**
 * The time for the fault search: a replay (--seed) only replays, so the command a failure prints gives its trace
 * page at once; --minimize asks for the search there too, and --no-minimize turns it off everywhere.
 */
function minimizeSeconds(flag: boolean | undefined, replay: boolean): number | undefined {
  if (flag === false || (flag === undefined && replay)) return 0;
  return flag === true ? DEFAULT_MINIMIZE_SEC : undefined;
}

/** `--report`'s folder, made (with its parents) and checked writable now, before any test runs. */
function reportFolder(text: string): string {
  const dir = path.resolve(text);
  const bad = (why: string) =>
    new GraderUsageError(
      `--report ${text}: ${why}. Give a folder of your own for the reports (the default is "${DEFAULTS.reportDir}").`,
    );
  if (/^\/(proc|sys|dev)(\/|$)/.test(dir)) throw bad('that is a system folder, not a place for files');
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw bad('that is a file, not a folder');
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw bad(`it cannot be written (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return dir;
}

function wholeNumber(text: string, flag: string, min: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min)
    throw new GraderUsageError(`${flag} needs a whole number of at least ${min} (got "${text}").`);
  return Number(text);
}

function reportError(err: unknown, io: CliIO): number {
  if (err instanceof GraderUsageError) {
    io.stderr.write(`${colorsFor(io.stderr, io.env).red('Error:')} ${err.message}\n`);
    return err.exitCode;
  }
  io.stderr.write(
    `The grader itself failed (this is a bug in the grader, not in your code):\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 3;
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 3;
    },
  );
}
