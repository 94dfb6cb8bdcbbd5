/** A lab's rubric (labN/test/rubric.json): points and real-time limits per named test. */
import fs from 'node:fs';
import { GraderUsageError, listNames } from './errors';

/** One rubric entry. */
export interface RubricEntry {
  /** Points awarded when the test passes. */
  readonly points: number;
  /** Real time allowed for one run of the test, seconds (default: the rubric's defaultTimeoutSec). */
  readonly timeoutSec?: number;
  /** The handout's part after which a correct solution first passes the test (1-based); the kit checks the handout lists it there. */
  readonly part?: number;
}

/** The whole rubric file. */
export interface Rubric {
  readonly lab: string;
  /** Real time allowed per test when its entry gives none, seconds. */
  readonly defaultTimeoutSec?: number;
  readonly tests: Readonly<Record<string, RubricEntry>>;
}

/** The grader's real-time limit per test when neither the rubric nor the caller sets one, seconds. */
export const DEFAULT_TIMEOUT_SEC = 120;

/** Reads and checks a rubric file; every mistake is reported with the file's name. */
export function loadRubric(file: string): Rubric {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new GraderUsageError(
      `The rubric ${file} is missing. Every lab with a test suite needs one: it gives each named test its points.`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new GraderUsageError(`The rubric ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseRubric(data, file);
}

/** Checks the shape of parsed rubric JSON. */
export function parseRubric(data: unknown, file: string): Rubric {
  const bad = (what: string): never => {
    throw new GraderUsageError(
      `The rubric ${file} ${what}. Expected {"lab": "labN", "defaultTimeoutSec": 120, "tests": {"TestX": {"points": 10, "timeoutSec": 60}}}.`,
    );
  };
  if (!isRecord(data)) return bad('is not a JSON object');
  if (typeof data.lab !== 'string') bad('has no "lab" name');
  if (data.defaultTimeoutSec !== undefined && !isPositive(data.defaultTimeoutSec))
    bad('has a "defaultTimeoutSec" that is not a positive number');
  if (!isRecord(data.tests)) return bad('has no "tests" object');
  const tests: Record<string, RubricEntry> = {};
  for (const [name, entry] of Object.entries(data.tests)) {
    if (!isRecord(entry)) return bad(`gives test "${name}" something other than an object`);
    if (typeof entry.points !== 'number' || !Number.isFinite(entry.points) || entry.points < 0)
      bad(`gives test "${name}" no valid "points" (a number ≥ 0)`);
    if (entry.timeoutSec !== undefined && !isPositive(entry.timeoutSec))
      bad(`gives test "${name}" a "timeoutSec" that is not a positive number`);
    if (entry.part !== undefined && !(Number.isInteger(entry.part) && (entry.part as number) >= 1))
      bad(`gives test "${name}" a "part" that is not a whole number ≥ 1`);
    tests[name] = {
      points: entry.points as number,
      timeoutSec: entry.timeoutSec as number | undefined,
      part: entry.part as number | undefined,
    };
  }
  return { lab: data.lab as string, defaultTimeoutSec: data.defaultTimeoutSec as number | undefined, tests };
}

/** Fails unless the rubric and the suite name exactly the same tests. */
export function checkRubricMatchesSuite(
  rubric: Rubric,
  suiteTests: readonly string[],
  rubricFile: string,
  suiteFile: string,
): void {
  const inRubric = Object.keys(rubric.tests);
  const unknown = inRubric.filter((n) => !suiteTests.includes(n));
  const unscored = suiteTests.filter((n) => !inRubric.includes(n));
  const problems: string[] = [];
  if (unknown.length > 0)
    problems.push(
      `the rubric ${rubricFile} gives points to ${listNames(unknown)}, which the suite ${suiteFile} does not have`,
    );
  if (unscored.length > 0)
    problems.push(`the suite ${suiteFile} has ${listNames(unscored)}, which the rubric ${rubricFile} does not score`);
  if (problems.length > 0) {
    throw new GraderUsageError(
      `The rubric and the test suite disagree: ${problems.join('; and ')}. Every named test needs exactly one rubric entry.`,
    );
  }
}

/** The real-time limit for one run of `test`, ms. */
export function timeLimitMs(rubric: Rubric, test: string, fallbackSec: number = DEFAULT_TIMEOUT_SEC): number {
  const sec = rubric.tests[test]?.timeoutSec ?? rubric.defaultTimeoutSec ?? fallbackSec;
  return Math.round(sec * 1000);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPositive(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}
