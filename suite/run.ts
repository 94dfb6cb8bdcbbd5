/** Runs one named test once, in a fresh simulated world (or in real time), and describes how it ended. */
import { TimeoutError } from '../labrpc/errors';
import { codeFrames } from '../labrpc/stack';
import { DeadlockError, UncaughtError, VirtualTimeLimitError, WatchdogError, World, realNow } from '../world';
import { TestFailure, isTestFailure } from './failure';
import { watchRun } from './monitors';
import { recordPrinted } from './printed';
import { Transcript } from './transcript';
import type { CrashKind, TestContext, TestDefinition, TestOutcome } from './types';

/** Options for one run. */
export interface RunOptions {
  /** Real time allowed before the world's watchdog stops a spinning test, ms. */
  realLimitMs?: number;
  /** Record the run (messages, faults, operations, printed lines, the failure) into the outcome's `trace`. Simulated tests only. */
  record?: boolean;
  /** Note the network's faults into the outcome's `faults`, and allow only these keys when `allowed` is given (minimization). */
  faults?: { readonly allowed?: readonly string[] };
}

/** The running test's operation count (one counter; a closure, not an object, so the sandbox's freeze leaves it writable). */
let liveOps = 0;

/** The running (or last) test's operations so far: the grader reads it when a test process dies mid-run. */
export function liveOpCount(): number {
  return liveOps;
}

/** Runs `test` against `impl` with `seed`. Never throws: every failure becomes a failed outcome. */
export async function runNamedTest<Impl>(
  test: TestDefinition<Impl>,
  impl: Impl,
  seed: number,
  options: RunOptions = {},
): Promise<TestOutcome> {
  const log: string[] = [];
  const stuck: Array<() => readonly string[]> = [];
  liveOps = 0;
  const transcript = test.realTime ? new Transcript() : undefined;
  const world = test.realTime
    ? undefined
    : new World({
        seed,
        virtualLimitMs: test.virtualLimitMs,
        realLimitMs: options.realLimitMs,
        record: options.record,
        faults: options.faults,
      });
  const ctx: TestContext<Impl> = {
    impl,
    seed,
    world,
    log: (m) => void log.push(m),
    countOps: (n = 1) => {
      liveOps += n;
    },
    transcript,
    onStuck: (describe) => void stuck.push(describe),
  };
  const start = realNow();
  let error: unknown;
  const stopPrinting = world ? recordPrinted(world) : () => undefined;
  const watch = world && test.monitors ? watchRun(world, test.monitors) : undefined;
  try {
    if (world) await world.run(() => test.run(ctx));
    else await test.run(ctx);
  } catch (err) {
    // Whatever was thrown fails the test, `undefined` and `null` too (code under test can reject with anything).
    error = examinable(
      err ?? new Error(`The test stopped with ${String(err)} thrown or rejected instead of an error.`),
    );
  } finally {
    stopPrinting();
  }
  // The monitors' findings fail a passing run, and are added to a failing one's message (those that name a cause).
  const found = watch?.findings(error === undefined, liveOps) ?? '';
  if (found !== '' && error === undefined) error = new TestFailure(found);
  const alsoFound = found !== '' && !(isTestFailure(error) && error.message === found) ? found : '';
  const rec = world?.recorder;
  if (world && rec && error !== undefined) rec.add({ k: 'fail', t: world.now(), message: describeError(error) });
  const realMs = realNow() - start;
  const base = {
    name: test.name,
    seed,
    realMs,
    virtualMs: world ? world.now() : 0,
    rpcs: world ? world.stats.rpcs : 0,
    ops: liveOps,
    traceHash: world ? world.traceHash() : '',
    log,
    ...(rec ? { trace: rec.data() } : {}),
    ...(transcript && error !== undefined ? { trace: transcript.data(describeError(error)) } : {}),
    ...(world?.faults ? { faults: world.faults.applied } : {}),
  };
  if (error === undefined) return { ...base, status: 'passed', message: '' };
  return {
    ...base,
    status: 'failed',
    message:
      describeError(error) +
      inProgress(error, stuck) +
      (alsoFound ? `\n\nThe tester's monitors also saw:\n${alsoFound}` : ''),
    crash: crashKind(error),
    historyHtml: isTestFailure(error) ? error.attachments.historyHtml : undefined,
  };
}

/** For a run stopped on a time limit or a deadlock: what the test said was still in progress. */
function inProgress(err: unknown, stuck: ReadonlyArray<() => readonly string[]>): string {
  if (!(err instanceof VirtualTimeLimitError || err instanceof DeadlockError || err instanceof WatchdogError))
    return '';
  const lines = stuck.flatMap((describe) => {
    try {
      return describe();
    } catch {
      return [];
    }
  });
  return lines.length === 0
    ? ''
    : `\nStill in progress when the run stopped:\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

function crashKind(err: unknown): CrashKind {
  if (isTestFailure(err)) return 'assertion';
  if (err instanceof VirtualTimeLimitError) return 'virtual-time-limit';
  if (err instanceof DeadlockError) return 'deadlock';
  if (err instanceof WatchdogError) return 'timeout';
  if (err instanceof UncaughtError) return 'uncaught';
  return 'error';
}

/** What describeError says of a thrown value that throws again when it is examined. */
const UNEXAMINABLE =
  'The code under test threw a value that throws again when it is read (a Proxy whose traps throw, or an object ' +
  'whose getters throw), so it cannot be shown. Throw an Error (new Error("what went wrong")) instead.';

/**
 * What code under test threw, as the runner can read it: the value itself when every way the runner examines it
 * works, else an Error that says so (a value that throws when read must not stop the runner, or the run would hang
 * until its real-time limit).
 */
function examinable(err: unknown): unknown {
  try {
    describeThrown(err);
    crashKind(err);
    if (isTestFailure(err)) void err.attachments.historyHtml;
    return err;
  } catch {
    return new Error(UNEXAMINABLE);
  }
}

/** A failure message: the verdict for test failures, the error and its stack (trimmed) for crashes; never throws. */
export function describeError(err: unknown): string {
  try {
    return describeThrown(err);
  } catch {
    return UNEXAMINABLE;
  }
}

/** describeError's text, which may throw when `err` does as it is read. */
function describeThrown(err: unknown): string {
  if (
    isTestFailure(err) ||
    err instanceof VirtualTimeLimitError ||
    err instanceof DeadlockError ||
    err instanceof WatchdogError
  ) {
    return err.message;
  }
  if (err instanceof UncaughtError) {
    return `An exception escaped a timer callback (in a real program it would crash the process).\n${describeThrown(err.error)}`;
  }
  if (err instanceof TimeoutError) {
    return `A TimeoutError reached the test: ${err.message}. A lost message must be handled by your code (usually: wait a little and send the RPC again).`;
  }
  if (err instanceof Error) {
    const stack = codeFrames(err.stack)
      .map((f) => `    ${f}`)
      .join('\n');
    return `${err.name}: ${err.message}${stack ? '\n' + stack : ''}`;
  }
  return `non-Error value thrown: ${String(err)}`;
}
