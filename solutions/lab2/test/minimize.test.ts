/** Fault minimization of lab 2's planted bugs: a no-retry clerk and an ErrMaybe lock need one lost message. */
import { expect } from 'chai';
import { expectOneLostLockPut, minimalFor } from './minimal-faults';

describe('lab2: smallest failing schedules of planted bugs', function () {
  this.timeout(120_000);

  it('a clerk that never re-sends fails with just one lost message, and passes with none', async () => {
    for (const seed of [1, 2, 3]) {
      const m = await minimalFor('no-retry', 'TestManyClientsUnreliable', seed);
      expect(m.passesWithout, `seed ${seed}`).to.equal(true);
      expect(m.kept, `seed ${seed}`).to.have.length(1);
      expect(m.kept[0].what).to.match(
        /^the (request of|reply to) client (\d+)'s KVServer\.(Get|Put)\(.*\) sent at [\d.]+ ms \(end clerk-\2\) was lost$/,
      );
    }
  });

  it('a lock that takes ErrMaybe for success fails with just one lost message of a Put, and passes with none', async () => {
    // Seeds 7 and 13 run in minimize.full.test.ts: each search takes some 80 runs of the test.
    await expectOneLostLockPut(9);
  });

  it('finds the same set on every run (minimization is deterministic)', async () => {
    const a = await minimalFor('no-retry', 'TestManyClientsUnreliable', 2);
    const b = await minimalFor('no-retry', 'TestManyClientsUnreliable', 2);
    expect(b).to.deep.equal(a);
  });
});
