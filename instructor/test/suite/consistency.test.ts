/** The tests' consistency checks (suite/linearizable.ts): which verdicts pass a test, and what a student reads. */
import { expect } from 'chai';
import { kvModel } from '../../../checker/models/kv';
import {
  CHECK_STEP_BUDGET,
  SEQUENTIAL_STEP_BUDGET,
  TestFailure,
  assertLinearizable,
  checkForTest,
} from '../../../suite';
import type { TestContext } from '../../../suite';
import { get, hardHistory, put } from '../checker/helpers';

/** A test context that keeps what the check logs. */
function context(): { ctx: TestContext<unknown>; lines: string[] } {
  const lines: string[] = [];
  return { ctx: { log: (m: string) => lines.push(m) } as unknown as TestContext<unknown>, lines };
}

describe("the tests' consistency checks", () => {
  it('fail a test on an undecided linearizability check, saying so and why', () => {
    const r = checkForTest(kvModel, hardHistory('k'), { stepBudget: 2_000 });
    expect(r.result.verdict).to.equal('unknown');
    expect(r.ok).to.equal(false);
    expect(r.explanation).to.include('budget of 2000 search steps').and.include('An undecided check fails the test');
    expect(r.explanation).to.include('Likely causes:');
    expect(r.html, 'the viewer page comes with the failure').to.be.a('string');
  });

  it('pass an undecided sequential check (its search can be long on correct histories)', () => {
    const r = checkForTest(kvModel, hardHistory('k'), { mode: 'sequential', stepBudget: 2_000 });
    expect(r.result.verdict).to.equal('unknown');
    expect(r.ok).to.equal(true);
  });

  it('pass an ok history and fail an illegal one', () => {
    expect(checkForTest(kvModel, [put(0, 'a', 'x', 0, 1), get(1, 'a', 'x', 2, 3)]).ok).to.equal(true);
    expect(checkForTest(kvModel, [put(0, 'a', 'x', 0, 1), get(1, 'a', 'y', 2, 3)]).ok).to.equal(false);
  });

  it('give a sequential check more steps than a linearizable one', () => {
    expect(SEQUENTIAL_STEP_BUDGET).to.be.greaterThan(CHECK_STEP_BUDGET);
  });

  it('log the verdict and the step count (deterministic, so a replay logs the same), and throw a TestFailure', () => {
    const { ctx, lines } = context();
    assertLinearizable(ctx, kvModel, [put(0, 'a', 'x', 0, 1), get(1, 'a', 'x', 2, 3)]);
    expect(lines).to.deep.equal(['linearizability: ok (2 operations, 2 search steps)']);
    expect(() =>
      assertLinearizable(ctx, kvModel, [put(0, 'a', 'x', 0, 1), get(1, 'a', 'y', 2, 3)], 'Likely causes: X.'),
    ).to.throw(TestFailure, /is not linearizable[\s\S]*Likely causes: X\./);
  });
});
