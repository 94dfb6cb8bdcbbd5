/** The real time a whole lab suite takes on the reference solution, run in-process one test after another. */
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
