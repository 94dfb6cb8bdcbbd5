/**
 * `npm run grade-batch -- --lab lab2 --submissions DIR [--jobs N] [--template DIR] [--out DIR] [--test T...]`:
 * grades a whole class. Each subfolder of DIR is one student's repository. Only the student's files of the
 * lab folder (the suite's `implFiles` and their own helpers, never test/ or given files) are taken from it and
 * laid over a clean copy of the template, so edits to tests cannot matter; protected files that differ from
 * the template's manifest, and added files that would replace protected code, are still reported. Each submission is graded by
 * `npm run grade`'s command line in its own process, several at a time, each with an overall time limit.
 */
import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { runAsScript, runCommand } from './cli';
import { inLanes } from '../grader/lanes';
import { GraderUsageError, listNames } from '../grader/errors';
import { loadLab } from '../grader/labs';
import {
  addedFileProblem,
  compareManifest,
  plainEntry,
  describeFile,
  findAddedFiles,
  Manifest,
  MANIFEST_PATH,
  readManifest,
  TAMPER_REFUSAL,
} from '../grader/manifest';
import { parseSeed } from '../grader/seeds';
import type { GradeJson } from '../grader/reports/json';
import type { TextSink } from '../grader/types';
import { GradebookRow, gradebookCsv, RowStatus } from './gradebook';
import { DirtyTreeError } from './dirty';
import { isolatedCommand, probeNetworkIsolation, type NetworkIsolation } from './netns';
import { KIT_ROOT, release, userPath } from './release';

/** What to grade and how. */
export interface BatchOptions {
  readonly lab: string;
  /** Folder whose subfolders are the students' repositories. */
  readonly submissions: string;
  /** Where the gradebook, the reports and the work folders go. */
  readonly out: string;
  /** Submissions graded at once (default: the number of cores). */
  readonly jobs?: number;
  /** A released template (default: release one for `lab` into `<out>/.template`). */
  readonly template?: string;
  /** Only these tests (default: all of the lab's). */
  readonly tests?: readonly string[];
  /** One seed for every test of every student (default: fresh seeds). */
  readonly seed?: number;
  /** Real-time limit for grading one submission, s (default 900). */
  readonly timeoutSec?: number;
  /** Keep each student's work folder (the overlaid copy that was graded). */
  readonly keepWork?: boolean;
  /**
   * Run each submission's tests in the suite's order (default: an order drawn from `<out>/order.key` and the
   * student's folder name, which students cannot predict and a re-run into the same folder repeats).
   */
  readonly inOrder?: boolean;
  /**
   * Grade only shard `index` of `count` (1-based): the students whose place in the sorted list is index - 1 modulo
   * count, so that `count` machines share a class and `mergeGradebooks` puts their gradebooks back together.
   */
  readonly shard?: { readonly index: number; readonly count: number };
  /** The class's secret for test orders (shards must share one; default: `<out>/order.key`, made on the first run). */
  readonly orderKey?: string;
  /** Progress lines (default: stderr). */
  readonly log?: TextSink;
}

/** The outcome of a batch. */
export interface BatchResult {
  readonly rows: readonly GradebookRow[];
  readonly testNames: readonly string[];
  /** The gradebook CSV file. */
  readonly csv: string;
  /** Per-student reports live in `<reports>/<student>/`. */
  readonly reports: string;
  readonly template: string;
  readonly realMs: number;
  /** How the submissions' networks were kept apart (a namespace each, or the grader's port guard alone). */
  readonly network: NetworkIsolation;
}

const DEFAULT_TIMEOUT_SEC = 900;
/** Seconds of a submission's limit kept back for the grader to start and to write its results. */
const BUDGET_RESERVE_SEC = 30;

/** Grades every submission and writes the gradebook; rejects with a GraderUsageError for bad options. */
export async function gradeBatch(options: BatchOptions): Promise<BatchResult> {
  const started = Date.now();
  const log = options.log ?? process.stderr;
  const out = path.resolve(options.out);
  const submissions = path.resolve(options.submissions);
  const everyone = classList(submissions);
  const shard = options.shard;
  if (shard && !options.inOrder && options.orderKey === undefined)
    throw new GraderUsageError(
      "A shard needs the class's order key, the same for every shard: pass --order-key-file with a file holding 64 hex " +
        "digits (make one with `openssl rand -hex 32`; keep it secret), or grade in the suite's order with --in-order.",
    );
  const students = shard ? everyone.filter((_, i) => i % shard.count === shard.index - 1) : everyone;
  fs.mkdirSync(out, { recursive: true });

  const orderKey = options.inOrder ? undefined : (options.orderKey ?? readOrCreateOrderKey(out));
  const template = await prepareTemplate(options, out);
  const lab = loadLab(template, options.lab);
  const manifest = readManifest(template);
  const testNames = lab.suite.tests
    .map((t) => t.name)
    .filter((n) => !options.tests || options.tests.length === 0 || options.tests.includes(n));
  const unknownTests = (options.tests ?? []).filter((t) => !lab.suite.tests.some((x) => x.name === t));
  if (unknownTests.length > 0)
    throw new GraderUsageError(`${options.lab} has no test called ${listNames(unknownTests)}.`);
  const maxScore = testNames.reduce((a, t) => a + (lab.rubric.tests[t]?.points ?? 0), 0);
  const templateFiles = walk(template);
  const reports = path.join(out, 'reports');
  const work = path.join(out, 'work');
  const jobs = Math.max(1, options.jobs ?? os.cpus().length);
  log.write(`Grading ${students.length} submission(s) of ${options.lab}, ${jobs} at a time (template ${template})\n`);
  const network = probeNetworkIsolation();
  log.write(
    `  network: ${network.kind === 'namespace' ? 'a namespace per submission' : 'port guard'}: ${network.why}\n`,
  );

  const folders = studentFolders(everyone);
  const rows = new Array<GradebookRow>(students.length);
  let done = 0;
  const common = {
    options,
    orderKey,
    template,
    templateFiles,
    manifestFiles: manifest,
    maxScore,
    reports,
    work,
    network,
  };
  await inLanes(students, jobs, async (queue) => {
    for (let t = queue.take(); t; t = queue.take()) {
      const student = t.item;
      const row = await gradeOneSafely({
        ...common,
        student,
        folder: folders.get(student) ?? safeName(student),
        subDir: path.join(submissions, student),
        implFiles: lab.suite.implFiles,
        buildsOn: lab.suite.buildsOn ?? [],
      });
      rows[t.index] = row;
      done++;
      log.write(
        `  [${done}/${students.length}] ${student}: ${row.status === 'graded' ? `${row.score}/${row.maxScore}` : row.status}${row.tampered.length > 0 ? ' (tampered files)' : ''}  ${(row.realMs / 1000).toFixed(1)}s${timeLeft(Date.now() - started, done, students.length)}\n`,
      );
    }
  });
  if (!options.keepWork) fs.rmSync(work, { recursive: true, force: true });

  const csv = path.join(out, 'gradebook.csv');
  fs.writeFileSync(csv, gradebookCsv(rows, testNames));
  const book: GradebookFile = { lab: options.lab, tests: testNames, rows, ...(shard ? { shard } : {}) };
  fs.writeFileSync(path.join(out, 'gradebook.json'), `${JSON.stringify(book, null, 2)}\n`);
  return { rows, testNames, csv, reports, template, realMs: Date.now() - started, network };
}

/** Every student of the class: the subfolders of `submissions` (one per student), sorted; a clear error for none. */
function classList(submissions: string): string[] {
  if (!fs.statSync(submissions, { throwIfNoEntry: false })?.isDirectory())
    throw new GraderUsageError(`--submissions ${submissions} is not a folder.`);
  const everyone = fs
    .readdirSync(submissions, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  if (everyone.length === 0)
    throw new GraderUsageError(`--submissions ${submissions} has no subfolders (one per student).`);
  return everyone;
}

/** gradebook.json: the lab, the tests graded, a row per student, and the shard it holds (none: the whole class). */
export interface GradebookFile {
  readonly lab: string;
  readonly tests: readonly string[];
  readonly rows: readonly GradebookRow[];
  readonly shard?: { readonly index: number; readonly count: number };
}

/**
 * Puts the gradebooks of a class's shards (`grade-batch --shard k/N`, each in its own folder) back together in
 * `out`: the rows in the order one machine would have written them, the reports of every student, and a CSV.
 * Refuses shards of different labs or tests, a missing or repeated shard, and a student in two shards.
 */
export function mergeGradebooks(dirs: readonly string[], out: string): GradebookFile {
  const books = dirs.map((d) => {
    const file = path.join(d, 'gradebook.json');
    if (!fs.existsSync(file)) throw new GraderUsageError(`${d} has no gradebook.json: is it the --out of a shard?`);
    return JSON.parse(fs.readFileSync(file, 'utf8')) as GradebookFile;
  });
  const [first] = books;
  if (!first) throw new GraderUsageError('grade-batch merge needs the --out folder of every shard.');
  for (const [i, b] of books.entries()) {
    if (b.lab !== first.lab || JSON.stringify(b.tests) !== JSON.stringify(first.tests))
      throw new GraderUsageError(
        `${dirs[i]} graded ${b.lab} (${b.tests.join(', ')}), not ${first.lab} (${first.tests.join(', ')}).`,
      );
  }
  const count = first.shard?.count ?? 1;
  const indexes = books.map((b) => b.shard?.index ?? 1).sort((a, b) => a - b);
  const expected = Array.from({ length: count }, (_, i) => i + 1);
  if (books.some((b) => (b.shard?.count ?? 1) !== count) || JSON.stringify(indexes) !== JSON.stringify(expected))
    throw new GraderUsageError(
      `The folders hold shards ${indexes.join(', ')} of ${count}: merge needs each of 1..${count} exactly once.`,
    );
  const rows = books
    .flatMap((b) => b.rows)
    .sort((a, b) => (a.student < b.student ? -1 : a.student > b.student ? 1 : 0));
  const twice = rows.filter((r, i) => i > 0 && rows[i - 1].student === r.student).map((r) => r.student);
  if (twice.length > 0) throw new GraderUsageError(`${listNames(twice)} appear in two shards.`);
  fs.mkdirSync(path.join(out, 'reports'), { recursive: true });
  for (const d of dirs) {
    const reports = path.join(d, 'reports');
    if (fs.existsSync(reports)) fs.cpSync(reports, path.join(out, 'reports'), { recursive: true });
  }
  const merged: GradebookFile = { lab: first.lab, tests: first.tests, rows };
  fs.writeFileSync(path.join(out, 'gradebook.csv'), gradebookCsv(rows, first.tests));
  fs.writeFileSync(path.join(out, 'gradebook.json'), `${JSON.stringify(merged, null, 2)}\n`);
  return merged;
}

/** The batch's secret for test orders, kept in `<out>/order.key` (only the instructor reads it), made on the first run. */
function readOrCreateOrderKey(out: string): string {
  const file = path.join(out, 'order.key');
  try {
    const key = fs.readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(key)) return key;
  } catch {
    // none yet
  }
  const key = randomBytes(32).toString('hex');
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/** The clean template to grade in: the one given (checked), or a fresh release of the lab. */
async function prepareTemplate(options: BatchOptions, out: string): Promise<string> {
  let dir: string;
  if (options.template) {
    dir = path.resolve(options.template);
    if (!fs.existsSync(path.join(dir, MANIFEST_PATH)))
      throw new GraderUsageError(
        `--template ${dir} is not a released template (no ${MANIFEST_PATH}). Write one with npm run release -- --out DIR.`,
      );
  } else {
    dir = path.join(out, '.template');
    try {
      await release({ out: dir, labs: [options.lab], force: true });
    } catch (err) {
      if (!(err instanceof DirtyTreeError)) throw err;
      throw new GraderUsageError(
        `Without --template the batch releases a fresh template of ${options.lab} from the kit, and the kit has uncommitted changes there: ` +
          `${listNames(err.entries.map((e) => e.path))}. Commit (or stash) them, or better, pass --template with the very template the class started from.`,
      );
    }
  }
  if (!fs.existsSync(path.join(dir, 'node_modules')))
    linkModules(path.join(KIT_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/**
 * A node_modules folder of the work tree's own whose packages are links to the template's: its .cache (the
 * compile cache, the grader's own) stays the submission's, and the grader's sandbox, which may read the
 * packages but not the kit's cache, resolves each link it is allowed to read.
 */
export function linkModules(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) {
    if (name.startsWith('.')) continue;
    // To where the package really is: a link to a link (a template whose packages are themselves links) would
    // make node open the middle link, which the sandbox does not let it read.
    fs.symlinkSync(fs.realpathSync(path.join(from, name)), path.join(to, name), 'dir');
  }
}

/** Every file under `dir` (relative, forward slashes), leaving out node_modules and .git. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== '.git') out.push(...walk(dir, rel));
    } else if (e.isFile()) out.push(rel);
  }
  return out;
}

interface OneJob {
  readonly options: BatchOptions;
  readonly student: string;
  /** The student's folder under work/ and reports/ (see studentFolders). */
  readonly folder: string;
  /** The batch's secret for test orders (undefined: the suite's order). */
  readonly orderKey: string | undefined;
  readonly subDir: string;
  readonly template: string;
  readonly templateFiles: readonly string[];
  readonly implFiles: readonly string[];
  /** The earlier labs the lab's code builds on (lab 7 on lab 6 and lab 2): their files are the student's too. */
  readonly buildsOn: readonly { readonly lab: string; readonly files: readonly string[] }[];
  readonly manifestFiles: Manifest | undefined;
  /** Points of the selected tests (what a submission that does not finish is out of). */
  readonly maxScore: number;
  readonly reports: string;
  readonly work: string;
  /** Each grader runs inside this (a network namespace of its own where the machine allows). */
  readonly network: NetworkIsolation;
}

/** gradeOne, with a failure of the batch itself on this submission as the row's note (the class goes on). */
async function gradeOneSafely(job: OneJob): Promise<GradebookRow> {
  try {
    return await gradeOne(job);
  } catch (err) {
    return {
      student: job.student,
      status: 'error',
      score: 0,
      maxScore: job.maxScore,
      tests: {},
      tampered: [],
      notes: [`the batch grader failed on this submission: ${err instanceof Error ? err.message : String(err)}`],
      realMs: 0,
    };
  }
}

/** Grades one student: overlay, run the grader in a child process under a time limit, read its JSON. */
async function gradeOne(job: OneJob): Promise<GradebookRow> {
  const { options, student } = job;
  const { tampered, notes } = protectedFileChanges(job);
  if (job.folder !== student)
    notes.push(`reports in reports/${job.folder} (the name is not a folder name that is safe and unique)`);
  const dir = path.join(job.work, job.folder);
  notes.push(...overlay(job, dir));
  const reportDir = path.join(job.reports, job.folder);
  fs.mkdirSync(reportDir, { recursive: true });
  const limitMs = (options.timeoutSec ?? DEFAULT_TIMEOUT_SEC) * 1000;
  const [cmd, args] = isolatedCommand(job.network, process.execPath, graderArgs(job, reportDir, limitMs));
  const run = await runChild(cmd, args, dir, limitMs);
  fs.writeFileSync(
    path.join(reportDir, 'grader-output.txt'),
    `exit code: ${run.code ?? run.signal}\n\n--- stderr ---\n${run.stderr}\n--- stdout ---\n${run.stdout}`,
  );
  if (!options.keepWork) fs.rmSync(dir, { recursive: true, force: true });
  const row = rowOf(job, run, { student, tampered, realMs: run.realMs, maxScore: job.maxScore }, notes, limitMs);
  fs.writeFileSync(path.join(reportDir, 'grading.json'), `${JSON.stringify(row, null, 2)}\n`);
  return row;
}

/** The protected files a submission changed or added (a whole repository's every difference counts), and notes. */
function protectedFileChanges(job: OneJob): { tampered: string[]; notes: string[] } {
  const tampered: string[] = [];
  const notes: string[] = [];
  if (job.manifestFiles) {
    const fullRepo = fs.existsSync(path.join(job.subDir, 'package.json'));
    for (const t of compareManifest(job.subDir, job.manifestFiles))
      if (t.change === 'changed' || fullRepo) tampered.push(describeFile(t));
    for (const t of findAddedFiles(job.subDir, job.manifestFiles)) tampered.push(describeFile(t));
    if (!fullRepo) notes.push('not a whole repository (no package.json); only its lab files were looked at');
  }
  return { tampered, notes };
}

/** Builds the work tree `dir`: the clean template with the submission's own lab files laid over it; returns notes. */
function overlay(job: OneJob, dir: string): string[] {
  const lab = job.options.lab;
  const notes: string[] = [];
  fs.rmSync(dir, { recursive: true, force: true });
  for (const rel of job.templateFiles) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.copyFileSync(path.join(job.template, rel), path.join(dir, rel));
  }
  linkModules(fs.realpathSync(path.join(job.template, 'node_modules')), path.join(dir, 'node_modules'));
  const manifest = job.manifestFiles ?? { version: 1, generatedBy: '', files: {} };
  const own: string[] = [];
  // The lab's own files, and those of every earlier lab its code builds on (a lab 7 runs on the student's lab 6).
  for (const name of [lab, ...job.buildsOn.map((b) => b.lab)]) {
    const intake = labIntake(job.subDir, name, manifest);
    own.push(...intake.files);
    notes.push(...intake.refused);
  }
  for (const rel of own) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.copyFileSync(path.join(job.subDir, rel), path.join(dir, rel));
  }
  const expected = [
    ...job.implFiles.map((f) => `${lab}/${f}`),
    ...job.buildsOn.flatMap((b) => b.files.map((f) => `${b.lab}/${f}`)),
  ];
  const missing = expected.filter((rel) => !own.includes(rel));
  if (missing.length > 0) notes.push(`missing ${listNames(missing)} (the skeleton was graded in its place)`);
  return notes;
}

/** The grader's command line for one submission. */
function graderArgs(job: OneJob, reportDir: string, limitMs: number): string[] {
  const { options } = job;
  // The batch's compile caches: only graders write them; each submission's sandbox reads only its own folder.
  const cacheDir = path.join(job.work, '.compile-cache');
  // One test process per submission: the batch already grades several submissions side by side (--jobs).
  // The grader's own modules load through its compile cache (grader/register.js, as `npm run grade` does): ts-node
  // would compile the whole kit again for every submission (about 3 s each).
  const args = [
    '--expose-gc',
    '-r',
    './grader/register.js',
    'grader/cli.ts',
    options.lab,
    '--json',
    '--strict-manifest',
    '--no-color',
    '--jobs',
    '1',
    '--report',
    reportDir,
    '--cache-dir',
    cacheDir,
  ];
  // The tests run in an order the student's code cannot predict (it could otherwise count its way to a test).
  if (job.orderKey) args.push('--shuffle', createHmac('sha256', job.orderKey).update(job.student).digest('hex'));
  if (options.tests && options.tests.length > 0) args.push('--test', ...options.tests);
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  // The grader stops on its own a little before the hard limit, so a submission that hangs keeps the points of
  // the tests it passed instead of getting a bare "timeout" row.
  args.push('--budget', String(Math.max(10, Math.floor(limitMs / 1000) - BUDGET_RESERVE_SEC)));
  return args;
}

/** The gradebook row of a finished (or stopped) grader run. */
function rowOf(
  job: OneJob,
  run: Awaited<ReturnType<typeof runChild>>,
  base: Pick<GradebookRow, 'student' | 'tampered' | 'realMs' | 'maxScore'>,
  notes: string[],
  limitMs: number,
): GradebookRow {
  if (run.timedOut)
    return {
      ...base,
      status: 'timeout',
      score: 0,
      tests: {},
      notes: [...notes, `grading did not finish within ${limitMs / 1000}s and was stopped`],
    };
  const doc = run.code === 0 || run.code === 1 ? (parseJson(run.stdout) as GradeJson | undefined) : undefined;
  if (doc) {
    const tests: Record<string, number> = {};
    for (const t of doc.labs[0]?.tests ?? []) {
      tests[t.name] = t.points;
      if (t.status === 'failed' && t.crash && !['assertion', 'error'].includes(t.crash))
        notes.push(`${t.name}: ${t.crash}`);
    }
    const loadFailure = doc.labs[0]?.tests.find((t) => t.phase === 'load');
    if (loadFailure)
      notes.push(
        `the code could not be loaded: ${loadFailure.message.split('\n').slice(1, 3).join(' ').slice(0, 300)}`,
      );
    return { ...base, status: 'graded', score: doc.score, maxScore: doc.maxScore, tests, notes };
  }
  const errorLine =
    run.stderr.split('\n').find((l) => l.startsWith('Error:')) ??
    lastLine(run.stderr) ??
    `exit code ${run.code ?? run.signal}`;
  const status: RowStatus = run.code === 2 && run.stderr.includes(TAMPER_REFUSAL) ? 'refused' : 'error';
  return { ...base, status, score: 0, tests: {}, notes: [...notes, errorLine.slice(0, 300)] };
}

/** A student's lab file larger than this is refused (no lab file of a solution comes near it). */
export const MAX_STUDENT_FILE_BYTES = 1024 * 1024;

/** The files a submission's lab folder contributes, and what was refused (one note each). */
export interface LabIntake {
  /** Relative to the submission, forward slashes, sorted. */
  readonly files: string[];
  /** "lab2/ is a symbolic link: refused, the template's files were graded" and the like. */
  readonly refused: string[];
}

/**
 * The student's own files of `lab` in a submission (relative to it, forward slashes): every regular file of
 * the lab folder and its subfolders except test/, node_modules, .git, the given (protected) files and files
 * the tamper check refuses. So the lab's files and the student's helpers (lab3/broadcast.ts), nothing else.
 * Nothing is followed or read here: a lab folder or an entry that is a symbolic link, FIFO, socket or device,
 * and a file over MAX_STUDENT_FILE_BYTES, is refused with a note (a link could bring in a classmate's files,
 * a FIFO or a device would block or flood the batch).
 */
export function labIntake(subDir: string, lab: string, manifest: Manifest): LabIntake {
  const files: string[] = [];
  const refused: string[] = [];
  const visit = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(subDir, ...rel.split('/')), { withFileTypes: true })) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== '.git' && child !== `${lab}/test`) visit(child);
        continue;
      }
      if (
        Object.prototype.hasOwnProperty.call(manifest.files, child) ||
        addedFileProblem(child, manifest) !== undefined
      )
        continue;
      const entry = plainEntry(subDir, child);
      if (entry.kind === 'other') refused.push(`${child} is ${entry.what}, not a file: refused`);
      else if (entry.kind === 'file' && entry.size > MAX_STUDENT_FILE_BYTES)
        refused.push(`${child} has ${entry.size} bytes (at most ${MAX_STUDENT_FILE_BYTES}): refused`);
      else if (entry.kind === 'file') files.push(child);
    }
  };
  const top = plainEntry(subDir, lab);
  if (top.kind === 'other' && top.what === 'a folder') visit(lab);
  else if (top.kind !== 'missing')
    refused.push(
      `${lab}/ is ${top.kind === 'other' ? top.what : 'a file'}, not a folder: refused, nothing in it was graded`,
    );
  return { files: files.sort(), refused };
}

/** The student's own files of `lab` (see labIntake), without the notes. */
export function studentLabFiles(subDir: string, lab: string, manifest: Manifest): string[] {
  return labIntake(subDir, lab, manifest).files;
}

/** "  (about 4 min left)": the time the remaining submissions should take at the pace so far ('' when none remain). */
export function timeLeft(elapsedMs: number, done: number, total: number): string {
  if (done >= total || done === 0) return '';
  const s = Math.round(((elapsedMs / done) * (total - done)) / 1000);
  return `  (about ${s < 90 ? `${s} s` : `${Math.round(s / 60)} min`} left)`;
}

/** A folder name for a student that cannot escape the reports folder (not unique: see studentFolders). */
function safeName(student: string): string {
  return student.replace(/[^A-Za-z0-9._@-]/g, '_');
}

/**
 * Each student's folder under work/ and reports/, one per student and no two alike even where case is not told
 * apart: the name itself when it is safe (safeName leaves it alone) and no classmate's differs from it only in
 * case; otherwise its safe form and the first 8 hex digits of the name's SHA-256 (`a same` and `a_same` become
 * `a_same-5a2d…` and `a_same-9c1e…`). Depends only on the class list, so every shard of a class agrees.
 */
export function studentFolders(students: readonly string[]): Map<string, string> {
  const lower = new Map<string, number>();
  for (const s of students) lower.set(s.toLowerCase(), (lower.get(s.toLowerCase()) ?? 0) + 1);
  const folders = new Map<string, string>();
  for (const s of students) {
    const plain = safeName(s) === s && lower.get(s.toLowerCase()) === 1 && s !== '.' && s !== '..';
    folders.set(s, plain ? s : `${safeName(s)}-${createHash('sha256').update(s).digest('hex').slice(0, 8)}`);
  }
  const taken = new Map<string, string>();
  for (const [s, f] of folders) {
    const other = taken.get(f.toLowerCase());
    if (other !== undefined)
      throw new GraderUsageError(
        `The submissions ${JSON.stringify(other)} and ${JSON.stringify(s)} would be graded in one folder (${f}): rename one of them.`,
      );
    taken.set(f.toLowerCase(), s);
  }
  return folders;
}

function parseJson(text: string): unknown {
  try {
    const v = JSON.parse(text) as Partial<GradeJson>;
    return typeof v.score === 'number' && Array.isArray(v.labs) ? v : undefined;
  } catch {
    return undefined;
  }
}

function lastLine(s: string): string | undefined {
  return s.trim().split('\n').pop()?.slice(0, 300) || undefined;
}

/** A finished child process. */
interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly realMs: number;
}

/** Runs a command in its own process group; after `limitMs` the whole group is killed. */
function runChild(cmd: string, args: readonly string[], cwd: string, limitMs: number): Promise<ChildRun> {
  const started = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of ['GITHUB_ACTIONS', 'GITHUB_OUTPUT', 'KVLABS_LAB_ROOT', 'FORCE_COLOR']) delete env[k];
  return new Promise((resolve) => {
    const child = spawn(cmd, [...args], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const cap = (s: string, add: string) => (s.length > 4_000_000 ? s : s + add);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout = cap(stdout, d)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = cap(stderr, d)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, limitMs);
    child.on('error', (err) => {
      stderr += `\n${err.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        // Whatever is left in the grader's process group goes before the gradebook is written.
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already empty
      }
      resolve({ code, signal, stdout, stderr, timedOut, realMs: Date.now() - started });
    });
  });
}

/** `grade-batch merge --out DIR SHARD...`: one gradebook from the shards' folders. */
async function mergeMain(argv: readonly string[]): Promise<number> {
  const program = new Command('npm run grade-batch -- merge')
    .description("Puts the gradebooks of a class's shards (grade-batch --shard k/N) back together.")
    .argument('<shards...>', 'the --out folder of every shard')
    .requiredOption('--out <dir>', 'where the merged gradebook and reports go');
  return runCommand(program, argv, async () => {
    const merged = mergeGradebooks(program.args.map(userPath), userPath(program.opts<{ out: string }>().out));
    process.stdout.write(
      `Merged ${merged.rows.length} submission(s) of ${merged.lab} from ${program.args.length} shard(s).\n`,
    );
    return 0;
  });
}

/** `--shard 2/3` as { index: 2, count: 3 }. */
function parseShard(s: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count)
    throw new GraderUsageError(`--shard needs k/N with 1 <= k <= N, such as 2/3 (got "${s}").`);
  return { index, count };
}

/** The order key in `file`: 64 hex digits. */
function readOrderKeyFile(file: string): string {
  const key = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(key))
    throw new GraderUsageError(
      `--order-key-file ${file} must hold 64 hex digits (make one with \`openssl rand -hex 32\`).`,
    );
  return key;
}

/** Runs the command line and resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'merge') return mergeMain(argv.slice(1));
  const program = new Command('npm run grade-batch --')
    .description(
      'Grades every student repository in a folder against a clean template; writes a gradebook CSV and per-student reports.',
    )
    .requiredOption('--lab <lab>', 'the lab to grade, e.g. lab2')
    .requiredOption('--submissions <dir>', 'folder with one subfolder per student (their repositories)')
    .option('--jobs <n>', 'submissions graded at once (default: number of cores)')
    .option('--template <dir>', 'a released template to grade in (default: release one now)')
    .option('--out <dir>', 'where the gradebook and reports go (default: reports/batch/<lab>, which git ignores)')
    .option('-t, --test <names...>', 'only these tests (also comma-separated)')
    .option('-s, --seed <n>', 'one seed for every test of every student (a fair, repeatable batch)')
    .option('--timeout <sec>', 'real-time limit for one submission, seconds', String(DEFAULT_TIMEOUT_SEC))
    .option('--keep-work', 'keep the overlaid copy of each submission under <out>/work/')
    .option(
      '--shard <k/N>',
      'grade only shard k of N (one machine of a job array); put them together with `grade-batch merge`',
    )
    .option('--order-key-file <file>', "the class's secret for test orders (64 hex digits), the same for every shard")
    .option(
      '--in-order',
      "run each submission's tests in the suite's order (default: an order students cannot predict, drawn from <out>/order.key, the same on a re-run)",
    );
  return runCommand(program, argv, async () => {
    const o = program.opts<{
      lab: string;
      submissions: string;
      jobs?: string;
      template?: string;
      out?: string;
      test?: string[];
      seed?: string;
      timeout: string;
      keepWork?: boolean;
      inOrder?: boolean;
      shard?: string;
      orderKeyFile?: string;
    }>();
    const whole = (s: string, flag: string): number => {
      if (!/^\d+$/.test(s) || Number(s) < 1)
        throw new GraderUsageError(`${flag} needs a whole number of at least 1 (got "${s}").`);
      return Number(s);
    };
    const r = await gradeBatch({
      lab: o.lab,
      submissions: userPath(o.submissions),
      out: o.out === undefined ? path.join(KIT_ROOT, 'reports', 'batch', o.lab) : userPath(o.out),
      jobs: o.jobs === undefined ? undefined : whole(o.jobs, '--jobs'),
      template: o.template === undefined ? undefined : userPath(o.template),
      tests: o.test
        ?.flatMap((t) => t.split(','))
        .map((t) => t.trim())
        .filter((t) => t.length > 0),
      seed: o.seed === undefined ? undefined : parseSeed(o.seed),
      timeoutSec: whole(o.timeout, '--timeout'),
      keepWork: o.keepWork,
      inOrder: o.inOrder,
      shard: o.shard === undefined ? undefined : parseShard(o.shard),
      orderKey: o.orderKeyFile === undefined ? undefined : readOrderKeyFile(userPath(o.orderKeyFile)),
    });
    const graded = r.rows.filter((x) => x.status === 'graded').length;
    process.stdout.write(
      `Graded ${graded} of ${r.rows.length} submission(s) in ${(r.realMs / 1000).toFixed(1)}s.\n  gradebook: ${r.csv}\n  reports:   ${r.reports}/<student>/\n`,
    );
    return 0;
  });
}

runAsScript(module, main);
