/** results.json: the whole run, machine-readable. */
import { againCommand, historyFileName, minimalTraceFileName, replayCommand, rerunCommand, traceFileName } from '../format';
import type { LabResult, RunRecord, TestResult } from '../types';

/** What a test and each of its runs report alike: the test's sums or the run's own figures (see TestResult). */
type RunFigures = Pick<TestResult, 'seed' | 'realMs' | 'virtualMs' | 'rpcs' | 'ops' | 'traceHash' | 'message'> & {
  readonly crash: string | null;
  /** 'load' when it never ran: the suite or the code under test could not be loaded. */
  readonly phase: 'load' | null;
  /** The command that runs it again, when it failed. */
  readonly replay: string | null;
};

/** One run of a test in results.json. */
export interface RunDocument extends RunFigures {
  readonly status: RunRecord['status'];
  readonly history: string | null;
  readonly trace: string | null;
  readonly minimalFaults: {
    readonly total: number;
    readonly kept: readonly string[];
    readonly passesWithout: boolean;
    readonly complete: boolean;
    /** The trace page of that smallest failing schedule, when it has fewer faults than the run. */
    readonly trace: string | null;
  } | null;
  /** A failing run's test log and printed output (results.json only, not `--json`). */
  readonly log?: readonly string[];
  readonly output?: string;
}

/** One named test in results.json. */
export interface TestDocument extends RunFigures {
  readonly name: string;
  readonly description: string;
  readonly status: TestResult['status'];
  readonly points: number;
  readonly maxPoints: number;
  readonly realTime: boolean;
  readonly failingSeeds: readonly number[];
  readonly runs: readonly RunDocument[];
}

/** The JSON document written to results.json (also the per-lab part of `--json`, whose readers use this type). */
export interface ResultsDocument {
  readonly lab: string;
  readonly title: string;
  readonly target: LabResult['target'];
  readonly score: number;
  readonly maxScore: number;
  readonly passed: boolean;
  readonly runsPerTest: number;
  readonly seed: number | null;
  readonly seedBase: number | null;
  readonly typeErrors: LabResult['typeErrors'];
  readonly tests: readonly TestDocument[];
}

/** `npm run grade -- --json`: totals and every lab's document (without logs and printed output). */
export interface GradeJson {
  readonly target: string;
  readonly score: number;
  readonly maxScore: number;
  readonly passed: boolean;
  readonly exitCode: number;
  readonly labs: ReadonlyArray<ResultsDocument & { readonly reportDir: string | null }>;
}

/** The JSON document written to results.json (also the per-lab part of `--json`). */
export function resultsDocument(r: LabResult, withDetails = true): ResultsDocument {
  return {
    lab: r.lab,
    title: r.title,
    target: r.target,
    score: r.score,
    maxScore: r.maxScore,
    passed: r.passed,
    runsPerTest: r.runsPerTest,
    seed: r.seed ?? null,
    seedBase: r.seedBase ?? null,
    typeErrors: r.typeErrors,
    tests: r.tests.map((t) => testDocument(r, t, withDetails)),
  };
}

/** The figures a test and each of its runs report alike, from the test's sums or the run's own. */
function measured(x: TestResult | RunRecord): Omit<RunFigures, 'phase' | 'replay'> {
  return {
    seed: x.seed,
    realMs: round(x.realMs),
    virtualMs: round(x.virtualMs),
    rpcs: x.rpcs,
    ops: x.ops,
    traceHash: x.traceHash,
    message: x.message,
    crash: x.crash ?? null,
  };
}

function testDocument(r: LabResult, t: TestResult, withDetails: boolean): TestDocument {
  const failed = t.status === 'failed';
  return {
    name: t.name,
    description: t.description,
    status: t.status,
    points: t.points,
    maxPoints: t.maxPoints,
    ...measured(t),
    realTime: t.realTime === true,
    phase: t.runs.some((run) => run.phase === 'load') ? 'load' : null,
    failingSeeds: t.failingSeeds,
    replay: failed ? againCommand(r.lab, t, r.target) : null,
    runs: t.runs.map((run) => runDocument(r, run, withDetails, t.realTime === true)),
  };
}

function runDocument(r: LabResult, run: RunRecord, withDetails: boolean, realTime: boolean): RunDocument {
  const failed = run.status === 'failed';
  const doc: RunDocument = {
    status: run.status,
    ...measured(run),
    phase: run.phase ?? null,
    replay: failed ? (realTime ? rerunCommand(r.lab, run.name, r.target) : replayCommand(r.lab, run.name, run.seed, r.target)) : null,
    history: failed && run.historyHtml ? historyFileName(run.name, run.seed) : null,
    trace: failed && run.trace ? traceFileName(run.name, run.seed) : null,
    minimalFaults: failed && run.minimal ? { total: run.minimal.total, kept: run.minimal.kept.map((f) => f.what), passesWithout: run.minimal.passesWithout, complete: run.minimal.complete, trace: run.trace && run.minimalReplay ? minimalTraceFileName(run.name, run.seed) : null } : null,
  };
  return withDetails && failed ? { ...doc, log: run.log, output: run.output } : doc;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
