/** The real time a whole lab suite takes on the reference solution: in-process, and as `npm run grade` runs it. */
import { grade } from '../grader';
import { LabSuite, runNamedTest } from '../tester/suite';
import { realNow } from '../tester/world';
import type { BenchFigure } from './figure';

/** Runs every named test once with `seed` and reports the real time, noting the virtual time simulated. */
export async function suiteTimeFigure<Impl>(suite: LabSuite<Impl>, impl: Impl, note = '', seed = 1): Promise<BenchFigure> {
  const start = realNow();
  let virtualMs = 0;
  for (const test of suite.tests) {
    const outcome = await runNamedTest(test, impl, seed);
    if (outcome.status !== 'passed') throw new Error(`bench: ${test.name} failed on the solution: ${outcome.message}`);
    virtualMs += outcome.virtualMs;
  }
  return {
    name: `${suite.lab}: whole suite on the solution (in-process)`,
    value: Math.round(realNow() - start),
    unit: 'real ms',
    note: `${suite.tests.length} tests, ${(virtualMs / 1000).toFixed(1)} virtual s simulated${note ? `; ${note}` : ''}`,
  };
}

/** A sink that drops what the grader prints. */
const quiet = { write: (): boolean => true, isTTY: false };

/**
 * Real time of `npm run grade <lab> -- --solution --seed <seed>`: the figure a student sees, with the grader's
 * worker start-up, compilation and isolation included (the in-process figure leaves them out).
 */
export async function graderTimeFigure(lab: string, seed = 1): Promise<BenchFigure> {
  const start = realNow();
  const result = await grade({ lab, target: 'solution', seed, writeReports: false, color: false, out: quiet, err: quiet, env: {} });
  if (!result.passed) throw new Error(`bench: the ${lab} solution did not pass through the grader (${result.score}/${result.maxScore}).`);
  return {
    name: `${lab}: whole suite through the grader (npm run grade ${lab} -- --solution)`,
    value: Math.round(realNow() - start),
    unit: 'real ms',
    note: `${result.labs[0].tests.length} tests in isolated workers, scored ${result.score}/${result.maxScore}`,
  };
}
