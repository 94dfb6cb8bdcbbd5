/** Fault minimization of lab 2's planted bugs: a no-retry clerk and an ErrMaybe lock need one lost message. */
import { expect } from 'chai';
import * as path from 'node:path';
import { materialiseMutant, removeMutant } from '../../mutants';
import { failureSignature, minimizeFaults, runNamedTest } from '../../../suite';
import { mutants } from '../mutants';
import { suite } from '../../../lab2/test/suite';

const SOLUTION = path.resolve(__dirname, '..');

/** Minimizes the faults of `test` with mutant `name` on `seed` (which must fail). */
async function minimalFor(name: string, testName: string, seed: number) {
  const mutant = mutants.find((m) => m.name === name);
  if (!mutant) throw new Error(`no mutant ${name}`);
  const dir = materialiseMutant(SOLUTION, mutant);
  try {
    const impl = suite.load(dir);
    const test = suite.tests.find((t) => t.name === testName);
    if (!test) throw new Error(`no test ${testName}`);
    const first = await runNamedTest(test, impl, seed, { faults: {} });
    expect(first.status, first.message).to.equal('failed');
    const target = failureSignature(first);
    return await minimizeFaults(
      first.faults ?? [],
      async (allowed) => {
        const r = await runNamedTest(test, impl, seed, { faults: { allowed } });
        return failureSignature(r) === target && (r.faults ?? true);
      },
      Infinity,
    );
  } finally {
    removeMutant(dir);
  }
}

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
    // Each message's delays and drops are its own draws: removing one fault moves no other message, so the search
    // can narrow the run down to the one put whose lost message (a reply: the put happened; a request: it did not,
    // and the re-sent copy met a version another client had moved) made acquire trust ErrMaybe.
    for (const seed of [7, 9, 13]) {
      const m = await minimalFor('errmaybe-means-held', 'TestAcquireTimeoutUnreliable', seed);
      expect(m.passesWithout, `seed ${seed}`).to.equal(true);
      expect(
        m.kept.map((f) => f.what),
        `seed ${seed}`,
      ).to.have.length(1);
      expect(m.kept[0].what, `seed ${seed}`).to.match(
        /^the (reply to|request of) client (\d+)'s KVServer\.Put\(\{"key":"l",.*\) sent at [\d.]+ ms \(end clerk-\2\) was lost$/,
      );
    }
  });

  it('finds the same set on every run (minimization is deterministic)', async () => {
    const a = await minimalFor('no-retry', 'TestManyClientsUnreliable', 2);
    const b = await minimalFor('no-retry', 'TestManyClientsUnreliable', 2);
    expect(b).to.deep.equal(a);
  });
});
