/** Shrinks the faults of a lab 2 test run against a planted bug to the smallest set that still fails it. */
import { expect } from 'chai';
import * as path from 'node:path';
import { materialiseMutant, removeMutant } from '../../mutants';
import { failureSignature, minimizeFaults, runNamedTest } from '../../../suite';
import { mutants } from '../mutants';
import { suite } from '../../../lab2/test/suite';

const SOLUTION = path.resolve(__dirname, '..');

/** Minimizes the faults of `test` with mutant `name` on `seed` (which must fail). */
export async function minimalFor(name: string, testName: string, seed: number) {
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

/**
 * Checks that the ErrMaybe lock (mutant errmaybe-means-held) fails TestAcquireTimeoutUnreliable on `seed` with just
 * one lost message of a put of the lock's key, and passes with none. Each message's delays and drops are its own
 * draws: removing one fault moves no other message, so the search can narrow the run down to the one put whose lost
 * message (a reply: the put happened; a request: it did not, and the re-sent copy met a version another client had
 * moved) made acquire trust ErrMaybe.
 */
export async function expectOneLostLockPut(seed: number): Promise<void> {
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
