/** Finds the labs, loads a lab's suite and reads its rubric (each test's scoring) off it. */
import fs from 'node:fs';
import path from 'node:path';
import { implFolder, NoSolutionError } from '../suite/solution';
import type { LabSuite } from '../suite/types';
import { GraderUsageError, listNames } from './errors';
import { Rubric, rubricOf } from './rubric';
import type { Target } from './types';

/** Where one lab's pieces live. */
export interface LabPaths {
  /** Folder name, e.g. "lab2". */
  readonly lab: string;
  /** The student's folder, labN/. */
  readonly studentDir: string;
  /** labN/test/suite.ts */
  readonly suitePath: string;
}

/** A lab ready to grade. */
export interface LoadedLab extends LabPaths {
  readonly suite: LabSuite<unknown>;
  readonly rubric: Rubric;
}

/** The folder holding labN/ and the reference solutions: the caller's choice, else $KVLABS_LAB_ROOT, else the repository. */
export function labRoot(root?: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  return path.resolve(root ?? env.KVLABS_LAB_ROOT ?? path.join(__dirname, '..'));
}

/** The paths of lab `lab` under `root` (whether or not they exist). */
export function labPaths(root: string, lab: string): LabPaths {
  const studentDir = path.join(root, lab);
  return {
    lab,
    studentDir,
    suitePath: path.join(studentDir, 'test', 'suite.ts'),
  };
}

/** Every labN/ folder under `root` that has a test suite, in lab order. */
export function listLabs(root: string): LabPaths[] {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    throw new GraderUsageError(`The lab folder ${root} does not exist.`);
  }
  return names
    .filter((n) => /^lab\d+$/.test(n))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))
    .map((n) => labPaths(root, n))
    .filter((p) => fs.existsSync(p.suitePath));
}

/** Loads lab `lab`'s suite and rubric; unknown labs and mismatches are clear errors. */
export function loadLab(root: string, lab: string): LoadedLab {
  const paths = labPaths(root, lab);
  if (!fs.existsSync(paths.suitePath)) {
    const valid = listLabs(root).map((p) => p.lab);
    const why = fs.existsSync(paths.studentDir)
      ? `${lab} has no test suite yet (expected ${path.relative(process.cwd(), paths.suitePath) || paths.suitePath}).`
      : `There is no lab called "${lab}".`;
    throw new GraderUsageError(
      `${why} Labs you can grade: ${valid.length > 0 ? listNames(valid) : '(none yet)'}. ` +
        'Example: npm run grade lab2   (or every lab: npm run grade all)',
    );
  }
  const suite = requireSuite(paths.suitePath);
  if (suite.lab !== lab)
    throw new GraderUsageError(
      `The suite ${paths.suitePath} says it belongs to "${suite.lab}", but it sits in ${lab}/.`,
    );
  return { ...paths, suite, rubric: rubricOf(suite, paths.suitePath) };
}

/** Loads `export const suite` from a suite file and checks its shape. */
export function requireSuite(file: string): LabSuite<unknown> {
  const mod = require(file) as { suite?: Partial<LabSuite<unknown>> };
  const s = mod.suite;
  if (
    !s ||
    typeof s.lab !== 'string' ||
    !Array.isArray(s.tests) ||
    typeof s.load !== 'function' ||
    !Array.isArray(s.implFiles)
  ) {
    throw new GraderUsageError(
      `${file} must export \`suite\`: a LabSuite with lab, title, implFiles, load(dir) and tests.`,
    );
  }
  return s as LabSuite<unknown>;
}

/** The folder graded for `target`, after checking it holds every implementation file. */
export function implDir(lab: LoadedLab, target: Target): string {
  let dir: string;
  try {
    dir = implFolder(lab.lab, target === 'solution', path.dirname(lab.studentDir));
  } catch (err) {
    if (err instanceof NoSolutionError)
      throw new GraderUsageError(`${err.message} Grade your own code with: npm run grade ${lab.lab}`);
    throw err;
  }
  const missing = lab.suite.implFiles.filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length > 0) {
    const where = path.relative(process.cwd(), dir) || dir;
    throw new GraderUsageError(
      `${target === 'solution' ? 'The reference solution' : 'Your lab folder'} ${where}/ is missing ${listNames(missing)}. ` +
        `${lab.lab} needs ${listNames(lab.suite.implFiles)} there.`,
    );
  }
  return dir;
}

/** Checks that every name in `wanted` is one of the lab's tests; returns them in suite order. */
export function selectTests(lab: LoadedLab, wanted: readonly string[] | undefined): string[] {
  const all = lab.suite.tests.map((t) => t.name);
  if (!wanted || wanted.length === 0) return all;
  const unknown = wanted.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    const hints = unknown.map((n) => [n, closest(n, all)]).filter((p): p is [string, string] => p[1] !== undefined);
    const hint = hints.length > 0 ? ` Did you mean ${listNames(hints.map(([, m]) => m))}?` : '';
    throw new GraderUsageError(
      `${lab.lab} has no test called ${listNames(unknown.map((n) => `"${n}"`))}.${hint} Its tests are:\n  ${all.join('\n  ')}\n` +
        `Example: npm run grade ${lab.lab} -- --test ${hints[0]?.[1] ?? all[0] ?? 'TestName'}`,
    );
  }
  return all.filter((n) => wanted.includes(n));
}

/** The test name `typed` most likely meant: same letters ignoring case, or the only name containing it. */
function closest(typed: string, names: readonly string[]): string | undefined {
  const t = typed.toLowerCase().replace(/^test/, '');
  const same = names.find((n) => n.toLowerCase() === typed.toLowerCase());
  if (same) return same;
  const containing = names.filter((n) => t.length >= 3 && n.toLowerCase().includes(t));
  return containing.length === 1 ? containing[0] : undefined;
}
