/** Puts a test definition and its scoring side by side in a suite's list: the rubric lives with the tests. */
import type { NamedTest, Scoring, TestDefinition } from './types';

/** `scored(reliablePut, { points: 6, part: 1 })`: the named test with what it is worth. */
export function scored<Impl>(test: TestDefinition<Impl>, scoring: Scoring): NamedTest<Impl> {
  return { ...test, ...scoring };
}
