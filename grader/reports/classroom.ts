/**
 * The GitHub Classroom result: per test, a JSON object, base64-encoded (the format of the payloads that the
 * classroom-resources grader actions write), which the workflow's points step (grader/reports/classroom-step.js)
 * reads from `<RUNNER>_RESULTS` (the grader step's output for that runner). The step sums `tests[].score` against
 * `max_score` for the points it reports to Classroom, and prints each failed test's `message` and `test_code`.
 * A test the grader could not run at all (no result, a refusal) has status `error`; one that ran and failed, `fail`.
 */
import { againCommand, pts, REAL_TIME_NOTE, traceFileName } from '../format';
import type { LabResult, TestResult } from '../types';
import { failureLocation, locationText } from './location';
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
 * Widest runner name: short enough to read as one word in the points step's table and in the workflow file (the
 * width of the first column of Classroom's own reporter table, which courses know).
 */
export const RUNNER_WIDTH = 18;

/**
 * The Classroom runner for one test: the lab, then the test's name without "Test", its words shortened from the
 * longest down (to no fewer than 3 letters, then, for the longest names, fewer) until the whole fits in RUNNER_WIDTH: `lab2ReliablePut`,
 * `lab2PutWronVersRel` for TestPutWrongVersionReliable. One runner per test shows partial credit test by test.
 * Runner names are letters and digits only (they name step outputs and environment variables); the kit's tests
 * check that every lab's names are distinct, also in capitals (the points step reads `<NAME>_RESULTS`).
 */
export function runnerName(lab: string, test: string): string {
  const prefix = lab.replace(/[^A-Za-z0-9]/g, '');
  const body = test.replace(/[^A-Za-z0-9]/g, '').replace(/^Test(?=[A-Z0-9])/, '');
  const words = body.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? [];
  const budget = RUNNER_WIDTH - prefix.length;
  let length = words.reduce((a, w) => a + w.length, 0);
  // Words keep 3 letters while that is enough, then (names of six words and more) fewer, down to their initials.
  for (const floor of [3, 1]) {
    while (length > budget) {
      let longest = -1;
      for (let i = 0; i < words.length; i++)
        if (words[i].length > floor && (longest < 0 || words[i].length >= words[longest].length)) longest = i;
      if (longest < 0) break;
      words[longest] = words[longest].slice(0, -1);
      length--;
    }
  }
  return `${prefix}${words.join('')}`.slice(0, RUNNER_WIDTH);
}

/** One runner's payload: a single test, out of its own points. */
function testPayload(lab: LabResult, t: TestResult): ClassroomResult {
  const test = classroomTest(lab, t, false);
  return { version: 1, status: test.status === 'pass' ? 'pass' : 'fail', max_score: t.maxPoints, tests: [test] };
}

/**
 * The step-output lines for `labs`: `result=<payload of everything>` and, per test, `<runner>=<its payload>`
 * (the template's workflow hands each runner's output to the points step).
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

/** The payload as the points step reads it: base64 of its JSON. */
export function encodeClassroom(result: ClassroomResult): string {
  return Buffer.from(JSON.stringify(result), 'utf8').toString('base64');
}

/** The payload when the grader refuses to score (protected files changed): one failing entry with the reason, score 0. */
export function classroomRefusal(reason: string, maxScore: number): ClassroomResult {
  return {
    version: 1,
    status: 'fail',
    max_score: maxScore,
    tests: [{ name: 'Protected files unchanged', status: 'error', score: 0, message: reason, test_code: 'npm run grade', filename: '.kvlabs/manifest.json', line_no: 0, duration: 0, execution_time: 0 }],
  };
}

function classroomTest(lab: LabResult, t: TestResult, prefix: boolean): ClassroomTest {
  const failed = t.status === 'failed';
  const at = failed ? failureLocation(lab, t) : undefined;
  return {
    name: prefix ? `${lab.lab}/${t.name}` : t.name,
    status: failed ? 'fail' : 'pass',
    score: t.points,
    message: failed ? failureMessage(lab, t, prefix) : null,
    test_code: failed ? againCommand(lab.lab, t, lab.target) : `npm run grade ${lab.lab} -- --test ${t.name}`,
    filename: at?.file ?? `${lab.lab}/test/suite.ts`,
    line_no: at?.line ?? 0,
    duration: Math.round(t.realMs),
    execution_time: Math.round(t.realMs) / 1000,
  };
}

/**
 * A failed test's message as the points step prints it: which test and its points, what happened, where to look
 * in the student's code, and where the whole report is (the replay command follows it).
 */
function failureMessage(lab: LabResult, t: TestResult, prefix: boolean): string {
  // The message starts with the test's name; an Error's own "Error: " adds nothing.
  const text = plainText(t.message).replace(/^Error: /, '');
  const what = text.length > MESSAGE_LIMIT ? `${text.slice(0, MESSAGE_LIMIT)}…` : text;
  const at = failureLocation(lab, t);
  return [
    `❌ ${prefix ? `${lab.lab}/` : ''}${t.name} failed (${pts(t.points)}/${pts(t.maxPoints)} points): ${what}`,
    ...(at ? [`Where to look: ${locationText(at)}`] : []),
    t.realTime ? `(${REAL_TIME_NOTE})` : `seed=${t.seed}`,
    `The whole report: the grading-reports artifact on this run’s Summary page (${reportFiles(lab, t).join(', ')}).`,
    '',
  ].join('\n');
}

/** The report files of a failed test inside the grading-reports artifact: the lab's page, and its trace page if one was written. */
export function reportFiles(lab: LabResult, t: TestResult): string[] {
  const run = t.runs.find((r) => r.status === 'failed' && r.trace !== undefined);
  return [`${lab.lab}/index.html`, ...(run ? [`${lab.lab}/${traceFileName(t.name, run.seed)}`] : [])];
}
