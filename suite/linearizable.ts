/** The tests' linearizability verdict: log it, and fail with the history viewer when the history is illegal. */
import { Model, Operation, checkOrExplain } from '../checker';
import { TestFailure } from './failure';
import type { TestContext } from './types';

/** Real-time budget of one check; a check that runs out passes with a log line, as in MIT's tester. */
const CHECK_TIMEOUT_MS = 10_000;

/** Fails the test if `ops` is not linearizable under `model`; `causes` ("Likely causes: ...") ends the message. */
export function assertLinearizable<S extends {} | null, I, O>(
  ctx: TestContext<unknown>,
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  causes = '',
): void {
  const { result, explanation, html } = checkOrExplain(model, ops, { timeoutMs: CHECK_TIMEOUT_MS, html: true });
  // No timings here: a log line is part of the outcome, which a replay must reproduce exactly.
  ctx.log(`linearizability: ${result.verdict} (${ops.length} operations)`);
  if (result.verdict === 'illegal') {
    throw new TestFailure(
      `The history of operations is not linearizable.\n${explanation}${causes ? `\n${causes}` : ''}`,
      {
        historyHtml: html,
      },
    );
  }
}
