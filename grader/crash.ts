/** Words for failures: a short label per kind of failure and the explanations the grader itself writes. */
import { isTodo } from '../suite/failure';
import type { CrashKind } from '../suite/types';
import type { StarvedRun } from './cpu-time';

/** The label of a test's first failing run: like crashLabel, but says when the code could not even be loaded. */
export function failureLabel(
  runs: ReadonlyArray<{
    readonly status: string;
    readonly crash?: CrashKind;
    readonly phase?: 'load';
    readonly message: string;
  }>,
): string {
  const failed = runs.find((r) => r.status === 'failed');
  if (!failed) return '';
  if (failed.phase === 'load') return 'could not load';
  return isTodo(failed.message) ? 'TODO' : crashLabel(failed.crash);
}

/** A short label for the console and the reports ("" for an ordinary failed check). */
export function crashLabel(crash: CrashKind | undefined): string {
  switch (crash) {
    case undefined:
    case 'assertion':
      return '';
    case 'error':
      return 'exception';
    case 'timeout':
      return 'real-time limit';
    case 'exit':
      return 'process.exit';
    case 'uncaught':
      return 'uncaught exception';
    case 'unhandled-rejection':
      return 'unhandled rejection';
    case 'out-of-memory':
      return 'out of memory';
    case 'out-of-disk':
      return 'out of disk';
    case 'virtual-time-limit':
      return 'virtual-time limit';
    case 'deadlock':
      return 'deadlock';
    case 'budget':
      return 'time budget used up';
  }
}

/**
 * The test was stopped because it ran past its time limit without yielding; `starved` when its process's CPU time
 * is known (a simulated test on Linux).
 */
export function explainTimeout(limitMs: number, starved?: StarvedRun): string {
  const starvedNote =
    starved && starved.cpuMs < limitMs
      ? ` This machine was very busy: in ${seconds(starved.realMs)} of real time the test got only ${seconds(starved.cpuMs)} ` +
        'of CPU. If it passes when the machine is quieter, it was the load, not your code.'
      : '';
  return (
    `Time limit: the test was still running after ${seconds(limitMs)} (its limit), so the grader stopped it. ` +
    'The usual cause is code that never gives control back, such as a loop like `while (!done) {}` with no `await` inside: ' +
    'while it spins, the simulated clock cannot move and no message can arrive. Wait with `await` instead.' +
    starvedNote
  );
}

/** The test was cut short (`started`) or never run because the grading run's --budget was used up. */
export function explainBudget(budgetSec: number, started: boolean): string {
  return (
    `${started ? 'Stopped' : 'Not run'}: the whole grading run may take ${seconds(budgetSec * 1000)} of real time (--budget), and ` +
    `earlier tests used it up${started ? ' while this one was running' : ''}. ` +
    'Look first at the tests that hit their real-time limit: code that never yields, or waits that never end, uses up the time of the tests after it.'
  );
}

/** The code under test called process.exit. */
export function explainExit(code: number, where: string): string {
  return (
    `Your code called process.exit(${code}). In a real program that ends the whole process, ` +
    'so your servers and clients must never call it: report a problem by returning an error or throwing instead.' +
    (where ? `\nCalled from:\n  ${where.split('\n').join('\n  ')}` : '')
  );
}

/** An exception escaped a callback (a timer, an event handler, process.nextTick). */
export function explainUncaught(detail: string): string {
  return (
    'Uncaught exception: an error was thrown inside a callback (a timer, an event handler or process.nextTick) ' +
    'where nothing could catch it. In a real Node program this crashes the process. Catch errors inside such callbacks.\n' +
    detail
  );
}

/** A promise was rejected and nothing handled it. */
export function explainRejection(detail: string): string {
  return (
    'Unhandled promise rejection: a promise failed and nothing handled the failure. Did you forget an `await`, ' +
    'or a `.catch()` on a promise you start without awaiting? In a real Node program this crashes the process.\n' +
    detail
  );
}

/** The worker ran out of heap. */
export function explainOutOfMemory(limitMb: number): string {
  return (
    `Out of memory: the test needed more than the ${limitMb} MB of memory the grader allows, so it was stopped. ` +
    'Look for state that grows without bound, such as a map that never forgets old entries, ' +
    'or a loop that keeps creating objects without ever waiting.'
  );
}

/** The processes running a test held more resident memory in all than the grader allows (grader/memory-limit.ts). */
export function explainResidentOverrun(limitMb: number, heldMb: number, processes: number): string {
  const where =
    processes > 1
      ? `the test's process and the ${processes - 1} process(es) started for it (such as servers running your code)`
      : "the test's process";
  return (
    `Out of memory: ${where} held ${heldMb} MB of memory in all, more than the ${limitMb} MB the grader allows ` +
    '(the whole resident memory: the JavaScript heap, Buffers, typed arrays and everything else), so the test was stopped. ' +
    'Likely causes: large Buffers, typed arrays or strings kept where they are never released (a global, a cache, a ' +
    'list of every value ever seen), data read whole into memory where it could be streamed, or state that grows ' +
    'without bound, such as a map that never forgets old entries.'
  );
}

/** The folder the code under test writes held more than the grader allows (grader/disk-limit.ts). */
export function explainDiskOverrun(limitMb: number, heldMb: number, entries: number, entryLimit: number): string {
  const held =
    entries > entryLimit
      ? `more than ${entryLimit} files and folders, more than the grader allows`
      : `${heldMb} MB, more than the ${limitMb} MB the grader allows`;
  return (
    `Out of disk: the folder your code writes (its data folders, logs and snapshots, under TMPDIR) held ${held}, ` +
    'so the test was stopped. Likely causes: a log that is only ever appended to and never rewritten, snapshots ' +
    'or copies written under a new name each time and the old ones never removed, a file written again and again ' +
    'in a loop, or a value written whole on every change where the handout asks for an append.'
  );
}

/** The test process ended in a way the grader could not attribute (no process.exit seen, no error). */
export function explainUnexpectedEnd(code: number, signal: string | null = null): string {
  const how = signal ? `killed by ${signal}` : `exit code ${code}`;
  return `The test's process ended unexpectedly (${how}) without calling process.exit or throwing. The test cannot be scored.`;
}

/** How explainPackageDenied's message begins (it is no crash of the code under test, so no boot-crash prefix). */
const PACKAGE_DENIED = "The grader's sandbox could not read";

/** The sandbox refused to read an installed package: how the packages were installed, not the code under test. */
export function explainPackageDenied(resource: string): string {
  return (
    `${PACKAGE_DENIED} ${resource}, an installed package, so the test process stopped before ` +
    'your code ran: this is about how the packages were installed, not about your code. The sandbox follows no ' +
    'link to a folder outside node_modules (a linked @scope folder, say). Run `npm ci` in this repository to ' +
    'install the packages as folders of their own, and grade again.'
  );
}

/** A test result arrived that the grader's harness did not sign: code under test tried to report one itself. */
export function explainForgedVerdict(): string {
  return (
    'Refused: the grader received a test result that its own harness did not sign, so something in the test ' +
    'process (code under test) tried to report a result itself. The test fails and its process was stopped. ' +
    'Results come only from the grader; printing or posting them does not change a grade.'
  );
}

/** A result message for a test other than the running one: the harness sends exactly one per test. */
export function explainStrayVerdict(index: number): string {
  return (
    `Refused: while this test ran, the grader received a second result for test #${index + 1}, which had already ` +
    'reported. The harness sends one result per test, so something in the test process (code under test) wrote ' +
    'one itself. The test fails and its process was stopped. Results come only from the grader.'
  );
}

/** Loading the code under test took too long. */
export function explainBootTimeout(limitMs: number): string {
  return (
    `Your code did not finish loading within ${seconds(limitMs)}, so no test could run. ` +
    'Look for code at the top level of your files (outside any function) that loops or waits.'
  );
}

/** Prefixes a message for failures that happened while the code under test was loading. */
export function explainBootCrash(detail: string): string {
  if (detail.startsWith(PACKAGE_DENIED)) return detail;
  return `Your code crashed while it was being loaded, so no test could run.\n${detail}`;
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
