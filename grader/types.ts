/** The grader's shared vocabulary: what to grade (options) and what came out (results). */
import type { MinimalFaults } from '../suite/minimize';
import type { CrashKind, TestOutcome, TestStatus } from '../suite/types';
import type { TraceData } from '../world';
import type { TypeProblem } from './typecheck';

/** Whose code is graded: the student's files in labN/ or the reference solution (kit repository only). */
export type Target = 'student' | 'solution';

/** A writable text stream (process.stdout, process.stderr, or a test's collector). */
export interface TextSink {
  write(text: string): unknown;
  /** True when the stream is a terminal (progress and colours are shown only then). */
  readonly isTTY?: boolean;
}

/** Everything `grade()` needs to know. Only `lab` is required. */
export interface GradeOptions {
  /** A lab folder name such as "lab2", or "all" for every lab that has a test suite. */
  lab: string;
  /** Grade the student's files (default) or the reference solution. */
  target?: Target;
  /** Run only these named tests (default: all of the lab's tests). */
  tests?: readonly string[];
  /** Run every selected test with this seed (replay); default: a fresh seed per test. */
  seed?: number;
  /** Run each test this many times with different seeds (default 1). */
  runs?: number;
  /** Print a machine-readable summary on stdout and nothing else there. */
  json?: boolean;
  /** Where reports go (default "reports"); relative paths are taken from the current directory. */
  reportDir?: string;
  /** Write the GitHub Classroom result to $GITHUB_OUTPUT as `result=<base64>` when that variable is set. */
  classroom?: boolean;
  /** Refuse to grade a student template whose protected files changed (implied by `classroom` and GITHUB_ACTIONS=true). */
  strictManifest?: boolean;
  /** Echo everything the code under test prints, as it prints it (on stderr). */
  verbose?: boolean;
  /**
   * Run the tests in an order code under test cannot predict (results are still listed and scored in the suite's
   * order), so that it cannot tell a test by its position: true draws a fresh order, a string is a secret key
   * that fixes it (batch grading passes one per submission, so that a re-run repeats the order).
   */
  shuffle?: boolean | string;
  /** Test processes run side by side (default: the machine's cores, at most 4; real-time tests always run alone; 1 with --verbose). */
  jobs?: number;
  /** Heap limit of the sandboxed process that runs the tests, MB (default 1024). */
  heapLimitMb?: number;
  /** False only to measure what node's permission model costs (`npm run bench`); no command-line flag sets it. */
  permissions?: boolean;
  /** False only to measure what the compartment costs (`npm run bench`); no command-line flag sets it. */
  compartment?: boolean;
  /**
   * `npm run bench -- --profile` only (no command-line flag sets it): every test process and every process started
   * for a test writes a CPU profile (node's --cpu-prof) into a subfolder of this folder named for its kind. Node's
   * permission model writes none, so the bench grades without it (`permissions: false`) while it profiles.
   */
  cpuProfileDir?: string;
  /** Where the compile caches go (default node_modules/.cache/kvlabs-grader; batch grading gives each submission its own). */
  cacheRoot?: string;
  /** Folder holding labN/ and the reference solutions (default: the repository, or $KVLABS_LAB_ROOT). */
  root?: string;
  /**
   * Real time for the whole grading run, s (default: no limit). Tests are cut short or not run once it is used up
   * (0 points for them), so results and reports are still written before an outer limit (a CI step's) strikes.
   */
  budgetSec?: number;
  /** Real time allowed per test when the rubric gives none, s (default: the rubric's, else 120). */
  defaultTimeoutSec?: number;
  /** Extra real time after a test's limit before its worker is stopped, ms (default 2000). */
  killGraceMs?: number;
  /** Real time allowed for a worker to load the suite and the code under test, ms (default 60000). */
  bootTimeoutMs?: number;
  /** Write report files (default true). */
  writeReports?: boolean;
  /**
   * Replay the first failing run of each simulated test with recording on and write its message-trace page
   * (default true; needs `writeReports`).
   */
  traces?: boolean;
  /**
   * Real time for finding, by replays, the smallest set of the network's faults with which a traced failure still
   * happens, s (default 20, or 0 under a `budget`, whose time belongs to the tests; 0 skips it: `--no-minimize`).
   */
  minimizeSec?: number;
  /** Where human-readable output goes (default process.stdout; process.stderr with `json`). */
  out?: TextSink;
  /** Where progress goes (default process.stderr). */
  err?: TextSink;
  /** Force colours on or off (default: on for a terminal unless NO_COLOR is set). */
  color?: boolean;
  /** Environment to read GITHUB_OUTPUT and NO_COLOR from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** One run of one test with one seed, as the worker (or the supervisor, for a crash) reported it. */
export interface RunRecord extends TestOutcome {
  /** What the code under test printed during this run (the tail, when it printed a lot). */
  readonly output: string;
  /** Set when the test never ran because the suite or the code under test could not be loaded. */
  readonly phase?: 'load';
  /** For a traced failing run: the smallest set of faults found with which it still fails. */
  readonly minimal?: MinimalFaults;
  /**
   * The recorded replay of that smallest failing schedule (only the faults kept, and the test's own), when it has
   * fewer faults than the run: its trace page is written beside the run's.
   */
  readonly minimalReplay?: { readonly trace: TraceData; readonly message: string };
}

/** A named test's result over all its runs, scored by the rubric. */
export interface TestResult {
  readonly name: string;
  readonly description: string;
  /** Passed only when every run passed. */
  readonly status: TestStatus;
  readonly points: number;
  readonly maxPoints: number;
  /** The seed of the first failing run (or of the first run when all passed). */
  readonly seed: number;
  /** True for a test on real processes and sockets: no virtual time or RPCs, and no exact replay. */
  readonly realTime?: boolean;
  /** Sums over all runs. */
  readonly realMs: number;
  readonly virtualMs: number;
  readonly rpcs: number;
  readonly ops: number;
  /** Trace hash of the run named by `seed`. */
  readonly traceHash: string;
  /** Failure message of the first failing run (empty when passed). */
  readonly message: string;
  readonly crash?: CrashKind;
  /** Every run, in the order run. */
  readonly runs: readonly RunRecord[];
  /** Seeds of the failing runs. */
  readonly failingSeeds: readonly number[];
}

/** One lab's graded run. */
export interface LabResult {
  readonly lab: string;
  readonly title: string;
  readonly target: Target;
  readonly score: number;
  readonly maxScore: number;
  /** True when every selected test passed. */
  readonly passed: boolean;
  /** With --runs: the seed every run's seed was derived from. */
  readonly seedBase?: number;
  /** With --seed: the seed every test used. */
  readonly seed?: number;
  readonly runsPerTest: number;
  readonly tests: readonly TestResult[];
  /** Type errors TypeScript finds in the graded files (the tests ran anyway); empty for the reference solution. */
  readonly typeErrors: readonly TypeProblem[];
  /** The files a student fills in, relative to the lab's folder (the suite's implFiles): where reports point a failure with no frame of the student's. */
  readonly implFiles?: readonly string[];
  /** Folder the reports were written to, if any. */
  readonly reportDir?: string;
}

/** The outcome of `grade()`: one or more labs and the totals. */
export interface GradeResult {
  readonly target: Target;
  readonly labs: readonly LabResult[];
  readonly score: number;
  readonly maxScore: number;
  readonly passed: boolean;
  /** 0 when every selected test passed, 1 otherwise. */
  readonly exitCode: 0 | 1;
}
