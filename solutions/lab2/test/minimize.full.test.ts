/** Fault minimization of lab 2's ErrMaybe lock on more seeds than the quick suite's one (each search is long). */
import { expectOneLostLockPut } from './minimal-faults';

describe('lab2: smallest failing schedules of planted bugs, more seeds', function () {
  this.timeout(240_000);

  it('a lock that takes ErrMaybe for success fails with just one lost message of a Put on seeds 7 and 13 too', async () => {
    for (const seed of [7, 13]) await expectOneLostLockPut(seed);
  });
});
