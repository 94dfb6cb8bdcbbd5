/** A lab's rubric, read off its suite (each named test carries its points, part and real-time limit) and checked. */
import type { LabSuite, Scoring } from '../suite/types';
import { GraderUsageError, listNames } from './errors';

/** One test's entry: its scoring. */
export type RubricEntry = Scoring;

/** A lab's rubric: every named test's scoring, by name. */
export interface Rubric {
  readonly lab: string;
  /** Real time allowed per test when its entry gives none, seconds. */
  readonly defaultTimeoutSec?: number;
  readonly tests: Readonly<Record<string, RubricEntry>>;
}

/** The grader's real-time limit per test when neither the suite nor the caller sets one, seconds. */
export const DEFAULT_TIMEOUT_SEC = 120;

/**
 * The rubric of `suite` (loaded from `file`), after checking every test's scoring and that no two tests share a
 * name; each mistake is a GraderUsageError naming the file and the test.
 */
export function rubricOf(suite: LabSuite<unknown>, file: string): Rubric {
  const bad = (what: string): never => {
    throw new GraderUsageError(
      `The suite ${file} ${what}. Each named test needs its scoring beside it, e.g. scored(test, { points: 6, part: 1 }).`,
    );
  };
  if (suite.defaultTimeoutSec !== undefined && !isPositive(suite.defaultTimeoutSec))
    bad('has a defaultTimeoutSec that is not a positive number');
  const tests: Record<string, RubricEntry> = {};
  for (const t of suite.tests as ReadonlyArray<Partial<Scoring> & { name: string }>) {
    if (Object.prototype.hasOwnProperty.call(tests, t.name)) bad(`has more than one test named ${listNames([t.name])}`);
    if (typeof t.points !== 'number' || !Number.isFinite(t.points) || t.points < 0)
      bad(`gives test "${t.name}" no valid points (a number ≥ 0)`);
    if (!(Number.isInteger(t.part) && (t.part as number) >= 1))
      bad(`gives test "${t.name}" no valid part (the handout's part, a whole number ≥ 1)`);
    if (t.timeoutSec !== undefined && !isPositive(t.timeoutSec))
      bad(`gives test "${t.name}" a timeoutSec that is not a positive number`);
    tests[t.name] = { points: t.points as number, part: t.part as number, timeoutSec: t.timeoutSec };
  }
  return { lab: suite.lab, defaultTimeoutSec: suite.defaultTimeoutSec, tests };
}

/** The real-time limit for one run of `test`, ms. */
export function timeLimitMs(rubric: Rubric, test: string, fallbackSec: number = DEFAULT_TIMEOUT_SEC): number {
  const sec = rubric.tests[test]?.timeoutSec ?? rubric.defaultTimeoutSec ?? fallbackSec;
  return Math.round(sec * 1000);
}

function isPositive(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}
