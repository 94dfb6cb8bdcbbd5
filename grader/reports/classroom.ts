/**
 * The GitHub Classroom result, in the format the classroom-resources grader actions hand to
 * classroom-resources/autograding-grading-reporter: a JSON object, base64-encoded, which the reporter reads
 * from `<RUNNER>_RESULTS` (the grader step's `result` output). The reporter sums `tests[].score` against
 * `max_score` for the points it uploads.
 */
import { againCommand, REAL_TIME_NOTE } from '../format';
import type { LabResult, TestResult } from '../types';
import { plainText } from './text';

/** One test of the payload. */
export interface ClassroomTest {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'error';
  readonly score: number;
  readonly message: string | null;
  readonly test_code: string;
  readonly filename: string;
  readonly line_no: number;
  /** Real time, ms (the field the command and io graders fill). */
  readonly duration: number;
  /** Real time, seconds. */
  readonly execution_time: number;
}

/** The payload. */
export interface ClassroomResult {
  readonly version: 1;
  readonly status: 'pass' | 'fail' | 'error';
  readonly max_score: number;
  readonly tests: readonly ClassroomTest[];
}

/** Longest message put in the payload, characters (the reports keep the full text). */
const MESSAGE_LIMIT = 2000;

/** The payload for one or more labs (test names are prefixed with the lab when there are several). */
export function classroomResult(labs: readonly LabResult[]): ClassroomResult {
  const tests = labs.flatMap((lab) => lab.tests.map((t) => classroomTest(lab, t, labs.length > 1)));
  return {
    version: 1,
    status: tests.every((t) => t.status === 'pass') ? 'pass' : 'fail',
    max_score: labs.reduce((a, l) => a + l.maxScore, 0),
    tests,
  };
}

/**
 * The reporter's runner for one test: `lab2TestReliablePut`. One runner per test makes the points the reporter
 * prints agree with the points it uploads (it prints passed/total × max_score per runner, and uploads the sum of
 * the tests' scores). Runner names are letters and digits only (the reporter refuses others).
 */
export function runnerName(lab: string, test: string): string {
  return `${lab}${test}`.replace(/[^A-Za-z0-9]/g, '');
}

/** One runner's payload: a single test, out of its own points. */
function testPayload(lab: LabResult, t: TestResult): ClassroomResult {
  const test = classroomTest(lab, t, false);
  return { version: 1, status: test.status, max_score: t.maxPoints, tests: [test] };
}

/**
 * The step-output lines for `labs`: `result=<payload of everything>` and, per test, `<runner>=<its payload>`
 * (the template's workflow hands each runner's output to the reporter).
 */
export function classroomOutputs(labs: readonly LabResult[]): string {
  const lines = [`result=${encodeClassroom(classroomResult(labs))}`];
  for (const lab of labs) for (const t of lab.tests) lines.push(`${runnerName(lab.lab, t.name)}=${encodeClassroom(testPayload(lab, t))}`);
  return `${lines.join('\n')}\n`;
}

/** A runner's payload when its test has no result (the grader refused, could not start, or `npm ci` failed): 0 points with the reason. */
export function classroomMissing(lab: string, test: string, points: number, reason: string): ClassroomResult {
  return {
    version: 1,
    status: 'error',
    max_score: points,
    tests: [{ name: test, status: 'error', score: 0, message: reason, test_code: `npm run grade ${lab}`, filename: `${lab}/test/suite.ts`, line_no: 0, duration: 0, execution_time: 0 }],
  };
}

/** The payload as the reporter expects it: base64 of its JSON. */
export function encodeClassroom(result: ClassroomResult): string {
  return Buffer.from(JSON.stringify(result), 'utf8').toString('base64');
}

/** The payload when the grader refuses to score (protected files changed): one failing entry with the reason, score 0. */
export function classroomRefusal(reason: string, maxScore: number): ClassroomResult {
  return {
    version: 1,
    status: 'fail',
    max_score: maxScore,
    tests: [{ name: 'Protected files unchanged', status: 'fail', score: 0, message: reason, test_code: 'npm run grade', filename: '.kvlabs/manifest.json', line_no: 0, duration: 0, execution_time: 0 }],
  };
}

function classroomTest(lab: LabResult, t: TestResult, prefix: boolean): ClassroomTest {
  const failed = t.status === 'failed';
  let message: string | null = null;
  if (failed) {
    const text = plainText(t.message);
    message = text.length > MESSAGE_LIMIT ? `${text.slice(0, MESSAGE_LIMIT)}…` : text;
    message += t.realTime ? `\n(${REAL_TIME_NOTE})` : `\nseed=${t.seed}`;
  }
  return {
    name: prefix ? `${lab.lab}/${t.name}` : t.name,
    status: failed ? 'fail' : 'pass',
    score: t.points,
    message,
    test_code: failed ? againCommand(lab.lab, t, lab.target) : `npm run grade ${lab.lab} -- --test ${t.name}`,
    filename: `${lab.lab}/test/suite.ts`,
    line_no: 0,
    duration: Math.round(t.realMs),
    execution_time: Math.round(t.realMs) / 1000,
  };
}
