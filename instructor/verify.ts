/**
 * `npm run verify` (for instructors): the project type-checks, and for every lab with a test suite the
 * reference solution scores 100% and the untouched skeleton scores 0 without breaking the grader.
 */
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { colorsFor, Colors } from '../suite/colors';
import { GraderUsageError } from '../grader/errors';
import { firstLine, pts, secs } from '../grader/format';
import { grade } from '../grader/index';
import { labRoot, listLabs } from '../grader/labs';
import { parseSeed } from '../grader/seeds';
import type { LabResult, TextSink } from '../grader/types';
import { typecheck, TypecheckResult } from '../grader/typecheck';

/** What to verify and how. */
export interface VerifyOptions {
  /** Folder holding labN/ and solutions/ (default: the repository, or $KVLABS_LAB_ROOT). */
  readonly root?: string;
  /** Only these labs (default: every lab with a suite). */
  readonly labs?: readonly string[];
  /** Runs per test for the solution (default 1); more runs check more seeds. */
  readonly runs?: number;
  readonly seed?: number;
  /** The tsconfig to type-check once (default <root>/tsconfig.json); false skips the type check. */
  readonly tsconfig?: string | false;
  /** Where the table goes (default process.stdout). */
  readonly out?: TextSink;
  readonly color?: boolean;
  /** Limits passed on to grade(). */
  readonly heapLimitMb?: number;
  readonly killGraceMs?: number;
  readonly bootTimeoutMs?: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** One lab's verdict. */
export interface VerifyLab {
  readonly lab: string;
  /** Undefined when grading could not even start (see problems). */
  readonly solution?: { readonly score: number; readonly maxScore: number };
  readonly skeleton?: { readonly score: number; readonly maxScore: number };
  readonly realMs: number;
  /** Everything wrong with this lab, for people; empty when all is well. */
  readonly problems: readonly string[];
}

/** The whole verdict. */
export interface VerifyResult {
  readonly ok: boolean;
  /** Undefined when skipped. */
  readonly typecheck?: TypecheckResult;
  readonly labs: readonly VerifyLab[];
}

const SILENT: TextSink = { write: () => true };

/** Verifies every lab (or the chosen ones), prints a table, and resolves to the verdict. */
export async function verify(options: VerifyOptions = {}): Promise<VerifyResult> {
  const env = options.env ?? process.env;
  const root = labRoot(options.root, env);
  const out = options.out ?? process.stdout;
  const c = options.color === undefined ? colorsFor(out, env) : colorsFor({ isTTY: options.color }, {});
  const labs = options.labs ?? listLabs(root).map((p) => p.lab);

  let tc: TypecheckResult | undefined;
  if (options.tsconfig !== false) {
    const tsconfig = options.tsconfig ?? path.join(root, 'tsconfig.json');
    out.write(c.dim(`Type-checking the project once (tsc --noEmit -p ${tsconfig}) …\n`));
    tc = await typecheck(tsconfig);
    out.write(
      tc.ok
        ? `${c.green('✔')} the project type-checks (${secs(tc.realMs)})\n`
        : `${c.red('✘')} the project does not type-check:\n${indent(tc.output, 4)}\n`,
    );
  }

  const rows: VerifyLab[] = [];
  for (const lab of labs) {
    out.write(c.dim(`Verifying ${lab}: the reference solution, then the untouched skeleton …\n`));
    rows.push(await verifyLab(root, lab, options, env));
  }
  printTable(out, c, rows);
  const ok = (tc?.ok ?? true) && rows.every((r) => r.problems.length === 0);
  if (labs.length === 0) out.write(`No lab has a test suite yet (looked for lab*/test/suite.ts under ${root}).\n`);
  out.write(
    ok ? c.green(c.bold('verify: everything is in order\n')) : c.red(c.bold('verify: problems found (see above)\n')),
  );
  return { ok, typecheck: tc, labs: rows };
}

/** Grades one lab twice (solution, skeleton) and lists what is wrong. */
async function verifyLab(
  root: string,
  lab: string,
  options: VerifyOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<VerifyLab> {
  const started = performance.now();
  const problems: string[] = [];
  const base = {
    lab,
    root,
    writeReports: false,
    out: SILENT,
    err: SILENT,
    color: false,
    env,
    heapLimitMb: options.heapLimitMb,
    killGraceMs: options.killGraceMs,
    bootTimeoutMs: options.bootTimeoutMs,
  };
  const failures = new Map<string, string[]>(); // message -> which grading runs hit it
  const attempt = async (what: string, run: () => Promise<LabResult | undefined>): Promise<LabResult | undefined> => {
    try {
      return await run();
    } catch (err) {
      const message =
        err instanceof GraderUsageError
          ? err.message
          : `the grader failed: ${err instanceof Error ? err.message : String(err)}`;
      failures.set(message, [...(failures.get(message) ?? []), what]);
      return undefined;
    }
  };
  const solution = await attempt(
    'solution',
    async () => (await grade({ ...base, target: 'solution', runs: options.runs, seed: options.seed })).labs[0],
  );
  if (solution) {
    for (const t of solution.tests.filter((x) => x.status === 'failed')) {
      problems.push(
        `the reference solution fails ${t.name} (seed${t.failingSeeds.length > 1 ? 's' : ''} ${t.failingSeeds.join(', ')}): ${firstLine(t.message)}`,
      );
    }
  }
  const skeleton = await attempt(
    'skeleton',
    async () => (await grade({ ...base, target: 'student', seed: options.seed })).labs[0],
  );
  if (skeleton) {
    const passing = skeleton.tests.filter((t) => t.status === 'passed').map((t) => t.name);
    if (passing.length > 0) problems.push(`the untouched skeleton passes ${passing.join(', ')}; it should score 0`);
    const unloadable = skeleton.tests.find((t) => t.runs.some((r) => r.phase === 'load'));
    if (unloadable) problems.push(`the skeleton could not be loaded: ${firstLine(unloadable.message)}`);
    const slow = skeleton.tests.filter((t) => t.crash === 'timeout').map((t) => t.name);
    if (slow.length > 0)
      problems.push(
        `on the skeleton, ${slow.join(', ')} ran into the real-time limit; a skeleton's tests should fail quickly`,
      );
  }
  for (const [message, whats] of failures) problems.unshift(`${whats.length > 1 ? 'the lab' : whats[0]}: ${message}`);
  return {
    lab,
    solution: solution && { score: solution.score, maxScore: solution.maxScore },
    skeleton: skeleton && { score: skeleton.score, maxScore: skeleton.maxScore },
    realMs: performance.now() - started,
    problems,
  };
}

function printTable(out: TextSink, c: Colors, rows: readonly VerifyLab[]): void {
  if (rows.length === 0) return;
  const score = (s?: { score: number; maxScore: number }): string => (s ? `${pts(s.score)}/${pts(s.maxScore)}` : '—');
  const header = ['Lab', 'Solution', 'Skeleton', 'Time', 'Verdict'];
  const body = rows.map((r) => [
    r.lab,
    score(r.solution),
    score(r.skeleton),
    secs(r.realMs),
    r.problems.length === 0 ? 'ok' : `${r.problems.length} problem${r.problems.length > 1 ? 's' : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  out.write(`\n${c.bold(fmt(header))}\n`);
  for (const [i, b] of body.entries()) {
    const line = fmt(b);
    out.write(`${rows[i].problems.length === 0 ? line : c.red(line)}\n`);
  }
  for (const r of rows) for (const p of r.problems) out.write(`  ${c.red('✘')} ${r.lab}: ${p}\n`);
  out.write('\n');
}

function indent(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');
}

/** The command line: `npm run verify [-- --lab lab2] [--runs K] [--seed N] [--no-typecheck]`. */
export async function runVerifyCli(
  argv: readonly string[],
  out: TextSink = process.stdout,
  err: TextSink = process.stderr,
): Promise<number> {
  const program = new Command('npm run verify')
    .description(
      'Checks the course kit: the project type-checks, every reference solution scores 100%, every untouched skeleton scores 0.',
    )
    .option('-l, --lab <labs...>', 'only these labs')
    .addOption(new Option('-r, --runs <k>', 'runs per test for the solutions (more seeds)').default('1'))
    .option('-s, --seed <n>', 'seed (or base seed with --runs)')
    .option('--no-typecheck', 'skip the type check')
    .addHelpText(
      'after',
      '\nExamples:\n  npm run verify\n  npm run verify -- --lab lab2 --runs 10\n\nExit code 0 when everything is in order, 1 when a problem was found, 2 for a wrong command line.\n',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => void err.write(s) });
  try {
    program.parse([...argv], { from: 'user' });
    const o = program.opts<{ lab?: string[]; runs: string; seed?: string; typecheck: boolean }>();
    if (!/^\d+$/.test(o.runs) || Number(o.runs) < 1)
      throw new GraderUsageError(`--runs needs a whole number of at least 1 (got "${o.runs}").`);
    const result = await verify({
      labs: o.lab,
      runs: Number(o.runs),
      seed: o.seed === undefined ? undefined : parseSeed(o.seed),
      tsconfig: o.typecheck ? undefined : false,
      out,
    });
    return result.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' ? 0 : 2;
    if (e instanceof GraderUsageError) {
      err.write(`Error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  runVerifyCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`verify itself failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 3;
    },
  );
}
