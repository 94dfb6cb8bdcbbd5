/** A real-time clock for time budgets: the simulated world patches `performance.now` and `Date`, not `hrtime`. */

/** Real milliseconds since an arbitrary origin, unaffected by any virtual clock. */
export function realNowMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1000 + ns / 1e6;
}
