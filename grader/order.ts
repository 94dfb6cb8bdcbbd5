/** The order the grader hands jobs to its test processes: the suite's, or (with --shuffle) one code under test cannot predict. */
import { createHmac, randomInt } from 'node:crypto';

/** Draws a whole number in 0..n-1. */
export type Pick = (n: number) => number;

/**
 * A copy of `items` in the order `pick` draws (Fisher–Yates), so that code counting the tests it has seen
 * cannot tell which one runs now. The default draws from the operating system's randomness.
 */
export function inRandomOrder<T>(items: readonly T[], pick: Pick = randomInt): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Draws determined by a secret `key` (HMAC-SHA256 in counter mode, without modulo bias): the same key gives the
 * same order, so a batch re-run grades in the same order, and without the key nobody can predict it.
 */
export function keyedPick(key: string): Pick {
  let counter = 0;
  let block = Buffer.alloc(0);
  let at = 0;
  const next32 = (): number => {
    if (at + 4 > block.length) {
      block = createHmac('sha256', key).update(String(counter++)).digest();
      at = 0;
    }
    const v = block.readUInt32BE(at);
    at += 4;
    return v;
  };
  return (n) => {
    const limit = Math.floor(0x1_0000_0000 / n) * n; // values at or above it would favour small results
    for (;;) {
      const v = next32();
      if (v < limit) return v % n;
    }
  };
}

/**
 * `jobs` with those `waits` marks (real-time tests that share the cores) moved to the front, each part in its
 * order: such a test mostly waits (on processes starting, sockets, timers), so beside the simulated tests it costs
 * little, while last it would hold up the end of the grade alone.
 */
export function waitingFirst<T>(jobs: readonly T[], waits: (job: T) => boolean): T[] {
  return [...jobs.filter(waits), ...jobs.filter((job) => !waits(job))];
}
