/** A deadline on one step of a test: the step's promise, or a failure with the test's own words. */
import { TestFailure } from './failure';

/**
 * Resolves like `p`, or fails the test with `message()` when `p` takes longer than `ms` of the test's clock: virtual
 * time in a simulated test (the world's timers), real time in a real-time one.
 */
export async function within<T>(p: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TestFailure(message())), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
