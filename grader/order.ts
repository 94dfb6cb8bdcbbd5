/** The order the grader hands jobs to its test processes: the suite's, or (with --shuffle) one code under test cannot predict. */
import { randomInt } from 'node:crypto';

/**
 * A copy of `items` in an order drawn from the operating system's randomness (never from a seed a student can
 * know), so that code counting the tests it has seen cannot tell which one runs now. `pick(n)` draws from
 * 0..n-1 (given in tests).
 */
export function inRandomOrder<T>(items: readonly T[], pick: (n: number) => number = randomInt): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
