/** The tests' consistency checks: the checker's limits, which verdicts pass, and the failure a student sees. */
import { CheckMode, Explained, Model, Operation, checkOrExplain } from '../checker';
import { TestFailure } from './failure';
import type { TestContext } from './types';

/**
 * Most search steps the checker may take on one key (or one whole history). Counted in steps, not seconds, so
 * the verdict is the same on every machine at any load. Every reference history is decided in about one step per
 * operation (the largest, lab 2's 50,091 operations, in 54,549 steps), so this leaves a margin of over 180 times.
 */
export const CHECK_STEP_BUDGET = 10_000_000;

/**
 * The sequential search (no real-time order to rule out orders) can take far more steps than there are operations
 * on a correct history: lab 3's reference took up to 1.4 million on 63 operations, in 1 of 5,000 checks. It gets a
 * larger budget, and an undecided sequential check passes (as in MIT's tester): failing it would cost correct
 * solutions points now and then, at about 70 ns a step.
 */
export const SEQUENTIAL_STEP_BUDGET = 50_000_000;

/** Real-time backstop of one check, ms: the step budget ends a check first unless the machine is very slow. */
const CHECK_TIMEOUT_MS = 60_000;

/** A test's check of a history: passes when the verdict is ok, or undecided in a sequential check. */
export interface TestCheck extends Explained {
  /** Whether the history passes. */
  ok: boolean;
}

/**
 * Checks `ops` for `mode` with the tests' limits. An undecided linearizability check fails: an undecided check is
 * almost always a history that is not linearizable but needs a great many orders tried to prove it, and a verdict
 * must not depend on how fast the machine is. `stepBudget` replaces the mode's budget (the kit's own tests use a small
 * one to reach an undecided verdict quickly).
 */
export function checkForTest<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  options: { mode?: CheckMode; title?: string; stepBudget?: number } = {},
): TestCheck {
  const mode = options.mode ?? 'linearizable';
  const stepBudget = options.stepBudget ?? (mode === 'sequential' ? SEQUENTIAL_STEP_BUDGET : CHECK_STEP_BUDGET);
  const out = checkOrExplain(model, ops, {
    mode,
    title: options.title,
    stepBudget,
    timeoutMs: CHECK_TIMEOUT_MS,
    html: true,
  });
  const { verdict } = out.result;
  if (verdict === 'unknown' && mode === 'linearizable') {
    out.explanation =
      `${out.explanation}\nAn undecided check fails the test: a history a correct solution makes is decided in about one step per ` +
      'operation. Likely causes: replies that no order explains but that many orders nearly explain, so the checker cannot ' +
      'rule them all out (a read returning a value written long before, or a retried write applied twice); many ' +
      'operations that never returned on one key, each of which may or may not have happened; or a very slow machine ' +
      `(the check stops after ${CHECK_TIMEOUT_MS / 1000} s whatever its steps).`;
  }
  return { ...out, ok: verdict === 'ok' || (verdict === 'unknown' && mode === 'sequential') };
}

/** Fails the test if `ops` is not linearizable under `model`; `causes` ("Likely causes: ...") ends the message. */
export function assertLinearizable<S extends {} | null, I, O>(
  ctx: TestContext<unknown>,
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  causes = '',
): void {
  const { ok, result, explanation, html } = checkForTest(model, ops);
  // No timings here: a log line is part of the outcome, which a replay must reproduce exactly.
  ctx.log(`linearizability: ${result.verdict} (${ops.length} operations, ${result.steps} search steps)`);
  if (!ok) {
    const what = result.verdict === 'illegal' ? 'is not linearizable' : 'could not be shown linearizable';
    throw new TestFailure(
      `The history of operations ${what}.\n${explanation}${causes && result.verdict === 'illegal' ? `\n${causes}` : ''}`,
      { historyHtml: html },
    );
  }
}
