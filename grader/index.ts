/** `grade()`: grades one lab or all of them, prints progress and results, writes reports. Used by the CLI and tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { wantsColor } from '../suite/colors';
import { ConsoleReporter, markedCodeOutput } from './console';
import { GraderUsageError, listNames } from './errors';
import { DEFAULT_MINIMIZE_SEC, displayPath } from './format';
import { implDir, labRoot, listLabs, loadLab, LoadedLab, selectTests } from './labs';
import { checkTree, describeTampered, MANIFEST_PATH, TamperError } from './manifest';
import type { Job } from './protocol';
import { writeGithubOutput, writeLabReports, writeStepSummary } from './reports';
import { loadJunitWriter } from './reports/junit';
import { classroomMissing, classroomRefusal, encodeClassroom, runnerName } from './reports/classroom';
import { DEFAULT_TIMEOUT_SEC, timeLimitMs } from './rubric';
import { scoreTest, totals } from './scoring';
import { inRandomOrder, keyedPick, waitingFirst } from './order';
import { planSeeds, type SeedPlan } from './seeds';
import { DEFAULT_CACHE_ROOT } from './sandbox';
import { runJobs, type SupervisorOptions } from './supervisor';
import { typeProblemsSoon } from './typecheck';
import type { GradeOptions, GradeResult, LabResult, RunRecord, Target, TestResult, TextSink } from './types';
import type { TestDefinition } from '../suite/types';

/** The loader's guard (ts-hook.js, plain JavaScript): node's require in this process loads only the kit's files. */
const tsHook = require('./ts-hook.js') as {
  guardKitLoads(root: string, options: { manifest: boolean }): () => void;
};

export type { GradeOptions, GradeResult, LabResult, TestResult, RunRecord, Target } from './types';

/** Defaults for the limits a caller may leave out. */
export const DEFAULTS = {
  heapLimitMb: 1024,
  killGraceMs: 2000,
  bootTimeoutMs: 60_000,
  reportDir: 'reports',
} as const;

/** Test processes side by side unless told: the machine's cores, at most 4 (more rarely helps a lab's few tests). */
export function defaultJobs(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cores));
}

/** Everything one lab's grading needs besides the lab. */
interface Context {
  readonly options: GradeOptions;
  readonly target: Target;
  readonly reporter: ConsoleReporter;
  readonly err: TextSink;
  /** The kit's root folder (where tsconfig.json is). */
  readonly root: string;
  /** Real-time instant (Date.now()) by which every test must be done, from --budget; undefined for no limit. */
  readonly deadline?: number;
  /** Classroom or batch grading: every process loads from the tree only the manifest's files (ts-hook.js). */
  readonly strict: boolean;
}

/**
 * Grades `options.lab` ("labN" or "all") and resolves to the scored result. Rejects with a GraderUsageError
 * (exit code 2) for an unknown lab or test, a bad seed, or a lab whose suite, rubric or files do not fit.
 */
export async function grade(options: GradeOptions): Promise<GradeResult> {
  const env = options.env ?? process.env;
  // Where the tree's check is strict, node loads from it only the template's own files while it is graded
  // (ts-hook.js): nothing a student added or changed runs in this process, not even while a refusal is written.
  const unguard = isStrict(options, env)
    ? tsHook.guardKitLoads(labRoot(options.root, env), { manifest: true })
    : () => undefined;
  try {
    return await gradeTree(options, env);
  } finally {
    unguard();
  }
}

/** grade() once the loader's guard is in place. */
async function gradeTree(
  options: GradeOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<GradeResult> {
  const target: Target = options.target ?? 'student';
  const root = labRoot(options.root, env);
  const runs = options.runs ?? 1;
  planSeeds(options.seed, runs); // checks --seed and --runs before any work
  const out = options.out ?? (options.json ? process.stderr : process.stdout);
  const err = options.err ?? process.stderr;
  // Before the labs load: a changed suite must be refused even when it no longer loads.
  tamperCheck(root, options, env, err, () =>
    selectAcross(resolveLabs(root, options.lab), options.tests, options.lab === 'all'),
  );
  const labs = resolveLabs(root, options.lab);
  const selections = selectAcross(labs, options.tests, options.lab === 'all');
  for (const [lab] of selections) implDir(lab, target); // every folder is complete before anything runs

  const color = options.color ?? wantsColor(out, env);
  const reporter = new ConsoleReporter(out, err.isTTY ? err : undefined, color, options.verbose === true);
  const deadline = options.budgetSec === undefined ? undefined : Date.now() + options.budgetSec * 1000;
  const ctx: Context = { options, target, reporter, err, root, deadline, strict: isStrict(options, env) };

  const results: LabResult[] = [];
  for (const [lab, tests] of selections) {
    if (results.length > 0) reporter.line('');
    results.push(await gradeLab(ctx, lab, tests));
  }
  const t = totals(results.flatMap((r) => r.tests));
  const result: GradeResult = {
    target,
    labs: results,
    score: t.score,
    maxScore: t.maxScore,
    passed: t.passed,
    exitCode: t.passed ? 0 : 1,
  };
  if (options.lab === 'all') reporter.grandTotal(result);
  if (options.classroom) {
    if (env.GITHUB_STEP_SUMMARY) writeStepSummary(env.GITHUB_STEP_SUMMARY, results, env);
    if (env.GITHUB_OUTPUT) writeGithubOutput(env.GITHUB_OUTPUT, results);
    else
      reporter.line(
        '--classroom: GITHUB_OUTPUT is not set, so no step output was written (the payload is in each lab report folder, classroom.b64).',
      );
  }
  return result;
}

/**
 * In a student template (a tree with a manifest), checks the protected files. Strict (Classroom, where
 * GITHUB_ACTIONS=true, or batch grading): refuses with a TamperError naming the files, and under --classroom
 * first writes a payload scoring 0 with the reason. Otherwise warns and grades anyway.
 */
function tamperCheck(
  root: string,
  options: GradeOptions,
  env: Readonly<Record<string, string | undefined>>,
  err: TextSink,
  selections: () => ReadonlyArray<[LoadedLab, string[]]>,
): void {
  const check = checkTree(root);
  if (!check.manifest || check.tampered.length === 0) return;
  if (!isStrict(options, env)) {
    err.write(
      `Warning: the protected code is not as the template has it (${MANIFEST_PATH}): ${describeTampered(check.tampered)}. ` +
        'Grading anyway here, but GitHub Classroom and the course staff grade with the original files and refuse a changed tree: ' +
        'restore changed files (git checkout -- FILE) and delete added ones.\n',
    );
    return;
  }
  const refusal = new TamperError(check.tampered);
  if (options.classroom && env.GITHUB_OUTPUT) {
    let maxScore = 0;
    try {
      maxScore = selections().reduce(
        (sum, [lab, tests]) => sum + tests.reduce((a, t) => a + (lab.rubric.tests[t]?.points ?? 0), 0),
        0,
      );
    } catch {
      // The changed files no longer load; the payload still says why, out of 0.
    }
    const perTest: string[] = [];
    try {
      for (const [lab, tests] of selections()) {
        for (const t of tests)
          perTest.push(
            `${runnerName(lab.lab, t)}=${encodeClassroom(classroomMissing(lab.lab, t, lab.rubric.tests[t]?.points ?? 0, refusal.message))}\n`,
          );
      }
    } catch {
      // As above: the workflow's own fallback payloads then say the grader refused.
    }
    fs.appendFileSync(
      env.GITHUB_OUTPUT,
      `result=${encodeClassroom(classroomRefusal(refusal.message, maxScore))}\n${perTest.join('')}`,
    );
  }
  throw refusal;
}

/** Whether the tree's check refuses rather than warns: Classroom (--classroom or GITHUB_ACTIONS=true) and batch grading. */
function isStrict(options: GradeOptions, env: Readonly<Record<string, string | undefined>>): boolean {
  return options.strictManifest === true || options.classroom === true || env.GITHUB_ACTIONS === 'true';
}

/** The labs to grade: one by name, or every lab with a suite. */
function resolveLabs(root: string, lab: string): LoadedLab[] {
  if (lab !== 'all') return [loadLab(root, lab)];
  const all = listLabs(root);
  if (all.length === 0)
    throw new GraderUsageError(`No lab has a test suite yet (looked for lab*/test/suite.ts under ${root}).`);
  return all.map((p) => loadLab(root, p.lab));
}

/** Which tests each lab runs; with `all`, a --test name must exist in some lab and labs without any are skipped. */
function selectAcross(
  labs: LoadedLab[],
  wanted: readonly string[] | undefined,
  all: boolean,
): Array<[LoadedLab, string[]]> {
  if (!all || !wanted || wanted.length === 0) return labs.map((l) => [l, selectTests(l, wanted)]);
  const known = new Set(labs.flatMap((l) => l.suite.tests.map((t) => t.name)));
  const unknown = wanted.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new GraderUsageError(
      `No lab has a test called ${listNames(unknown.map((n) => `"${n}"`))}. ` +
        `Tests by lab:\n${labs.map((l) => `  ${l.lab}: ${l.suite.tests.map((t) => t.name).join(', ')}`).join('\n')}`,
    );
  }
  return labs
    .map((l): [LoadedLab, string[]] => [l, l.suite.tests.map((t) => t.name).filter((n) => wanted.includes(n))])
    .filter(([, tests]) => tests.length > 0);
}

/** Runs and scores one lab, printing as it goes, and writes its reports. */
async function gradeLab(ctx: Context, lab: LoadedLab, tests: string[]): Promise<LabResult> {
  const { options, target, reporter } = ctx;
  const runs = options.runs ?? 1;
  const plan = planSeeds(options.seed, runs);
  const jobs = planJobs(lab, tests, plan, options);
  const writeReports = options.writeReports ?? true;
  const reportDir = path.resolve(options.reportDir ?? DEFAULTS.reportDir, lab.lab);
  const dir = implDir(lab, target);
  const progress = new LabProgress(ctx, lab, tests, plan, writeReports ? displayPath(reportDir) : undefined);
  reporter.labStart(
    {
      lab: lab.lab,
      title: lab.suite.title,
      target,
      dir: displayPath(dir),
      tests: tests.length,
      runs,
      seed: plan.fixed,
      seedBase: plan.base,
    },
    progress.nameWidth,
  );
  // The tests run the code as JavaScript whatever its types, so they start while it is type-checked; a type error
  // is still shown first, as the likely cause of what follows (no test's line is printed before the check ends).
  const typeCheck =
    target === 'student' ? typeProblemsSoon(ctx.root, dir, options.cacheRoot ?? DEFAULT_CACHE_ROOT) : [];
  const shown = progress.holdUntil(
    Promise.resolve(typeCheck).then((problems) => {
      if (problems.length > 0) reporter.typeProblems(problems);
    }),
  );
  const drawn =
    options.shuffle === undefined || options.shuffle === false
      ? jobs
      : inRandomOrder(jobs, options.shuffle === true ? undefined : keyedPick(`${options.shuffle}\0${lab.lab}`));
  const order = waitingFirst(drawn, (job) => sharesCoresInRealTime(lab, job.test));
  const running = runJobs(order, supervisorOptions(ctx, lab, dir, progress, writeReports));
  // The report writer loads while the first test process starts: a one-test grade would otherwise wait for both.
  if (writeReports) setImmediate(loadJunitWriter);
  await running;
  await shown;
  const typeErrors = await typeCheck;

  const results = tests.map((name) => progress.scored(name));
  const t = totals(results);
  let result: LabResult = {
    lab: lab.lab,
    title: lab.suite.title,
    target,
    score: t.score,
    maxScore: t.maxScore,
    passed: t.passed,
    seed: plan.fixed,
    seedBase: plan.base,
    runsPerTest: runs,
    tests: results,
    typeErrors,
    implFiles: lab.suite.implFiles,
  };
  if (writeReports) {
    writeLabReports(reportDir, result);
    result = { ...result, reportDir: displayPath(reportDir) };
  }
  reporter.labEnd(result);
  return result;
}

/** One job per run of each test: its seeds from the plan, its time limit from the rubric. */
function planJobs(lab: LoadedLab, tests: readonly string[], plan: SeedPlan, options: GradeOptions): Job[] {
  const jobs: Job[] = [];
  tests.forEach((name, i) => {
    for (const seed of plan.seedsFor(i)) {
      jobs.push({
        index: jobs.length,
        test: name,
        seed,
        realLimitMs: timeLimitMs(lab.rubric, name, options.defaultTimeoutSec ?? DEFAULT_TIMEOUT_SEC),
        cpuBound: lab.suite.tests.find((t) => t.name === name)?.realTime !== true,
      });
    }
  });
  return jobs;
}

/** True for a real-time test that runs beside the others (`alone: false`): it mostly waits, so it starts first. */
function sharesCoresInRealTime(lab: LoadedLab, name: string): boolean {
  const test = lab.suite.tests.find((t) => t.name === name);
  return test?.realTime === true && test.alone === false;
}

/** How the supervisor runs this lab's jobs: limits, lanes, which jobs run alone, and what a failure gets. */
function supervisorOptions(
  ctx: Context,
  lab: LoadedLab,
  dir: string,
  progress: LabProgress,
  writeReports: boolean,
): SupervisorOptions {
  const { options } = ctx;
  const testOf = (job: Job): TestDefinition<unknown> | undefined => lab.suite.tests.find((t) => t.name === job.test);
  // The first failing run of each simulated test is replayed once with recording on, for its trace page.
  const traced = new Set<string>();
  return {
    config: { suitePath: lab.suitePath, implDir: dir, compartment: options.compartment },
    heapLimitMb: options.heapLimitMb ?? DEFAULTS.heapLimitMb,
    kitManifest: ctx.strict,
    permissions: options.permissions,
    cpuProfileDir: options.cpuProfileDir,
    cacheRoot: options.cacheRoot,
    killGraceMs: options.killGraceMs ?? DEFAULTS.killGraceMs,
    bootTimeoutMs: options.bootTimeoutMs ?? DEFAULTS.bootTimeoutMs,
    budget: ctx.deadline === undefined ? undefined : { deadline: ctx.deadline, seconds: options.budgetSec ?? 0 },
    echo: options.verbose ? markedCodeOutput(ctx.err) : undefined,
    stray: ctx.err,
    // --verbose interleaves the output of tests running side by side, so it runs them one at a time.
    jobs: options.verbose ? 1 : (options.jobs ?? defaultJobs()),
    ownProcess: (job) => testOf(job)?.ownProcess === true,
    codeElsewhere: (job) => testOf(job)?.codeElsewhere === true,
    exclusive: (job) => {
      const test = testOf(job);
      return test?.alone ?? test?.realTime === true;
    },
    replayForTrace: (job) => {
      if (!writeReports || options.traces === false || traced.has(job.test) || testOf(job)?.realTime) return false;
      traced.add(job.test);
      return true;
    },
    // Under a time budget (Classroom, batch grading) the search would spend time the remaining tests may need:
    // a grade never pays for a diagnosis, so it runs only when asked for explicitly there.
    minimizeMs: (options.minimizeSec ?? (ctx.deadline === undefined ? DEFAULT_MINIMIZE_SEC : 0)) * 1000,
    onStart: (job) => progress.started(job),
    onDone: (job, record) => progress.done(job, record),
  };
}

/** A lab's runs as they finish (out of order, side by side), scored and printed in the suite's order. */
class LabProgress {
  /** Width of the test-name column. */
  readonly nameWidth: number;
  private readonly ctx: Context;
  private readonly lab: LoadedLab;
  private readonly tests: readonly string[];
  private readonly plan: SeedPlan;
  private readonly reportDir: string | undefined;
  private readonly records: Map<string, RunRecord[]>;
  /** tests[0..shown) have been printed. */
  private shown = 0;
  /** While true, finished tests wait to be printed (until what must come before them, the type check's verdict, is shown). */
  private held = false;

  constructor(ctx: Context, lab: LoadedLab, tests: readonly string[], plan: SeedPlan, reportDir: string | undefined) {
    this.ctx = ctx;
    this.lab = lab;
    this.tests = tests;
    this.plan = plan;
    this.reportDir = reportDir;
    this.records = new Map(tests.map((n) => [n, []]));
    this.nameWidth = Math.max(24, ...tests.map((t) => t.length));
  }

  /** Runs of `name` planned. */
  private planned(name: string): number {
    return this.plan.seedsFor(this.tests.indexOf(name)).length;
  }

  /** A test's result from its runs so far. */
  scored(name: string): TestResult {
    const test = this.lab.suite.tests.find((t) => t.name === name);
    // Runs side by side finish out of order: score them in the order of their seeds, as one process would.
    const seeds = this.plan.seedsFor(this.tests.indexOf(name));
    const runs = [...(this.records.get(name) ?? [])].sort((a, b) => seeds.indexOf(a.seed) - seeds.indexOf(b.seed));
    const result = scoreTest(name, test?.description ?? '', this.lab.rubric.tests[name]?.points ?? 0, runs);
    return test?.realTime ? { ...result, realTime: true } : result;
  }

  started(job: Job): void {
    const done = this.records.get(job.test)?.length ?? 0;
    const total = this.planned(job.test);
    const i = this.tests.indexOf(job.test);
    this.ctx.reporter.progress(
      i + 1,
      this.tests.length,
      job.test,
      total > 1 ? `run ${done + 1}/${total}, seed ${job.seed}` : '',
    );
  }

  done(job: Job, record: RunRecord): void {
    const { reporter } = this.ctx;
    reporter.runEnded(job.test);
    const list = this.records.get(job.test);
    if (!list) return;
    // A passing run's log and printed output are shown nowhere; do not keep them (there may be many runs).
    list.push(record.status === 'passed' ? { ...record, log: [], output: '' } : record);
    if (!this.held) this.flush();
  }

  /** Holds every test's line back until `before` (which prints what comes first) settles; then shows what finished. */
  holdUntil(before: Promise<void>): Promise<void> {
    this.held = true;
    return before.finally(() => {
      this.held = false;
      this.flush();
    });
  }

  /** Prints the tests that have finished every run, in the suite's order (they finish out of order side by side). */
  private flush(): void {
    const { reporter, target } = this.ctx;
    const tests = this.tests;
    while (
      this.shown < tests.length &&
      (this.records.get(tests[this.shown])?.length ?? 0) === this.planned(tests[this.shown])
    ) {
      reporter.testDone(this.scored(tests[this.shown]), this.lab.lab, target, this.nameWidth, this.reportDir);
      this.shown++;
    }
  }
}
