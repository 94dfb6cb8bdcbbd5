/** The mocha spec Stryker runs for `npm run mutation`: each named test of one lab against its (mutated) reference solution. */
import { expect } from 'chai';
import * as path from 'node:path';
import { runNamedTest } from '../../tester/suite';
import type { LabSuite, NamedTest } from '../../tester/suite/types';
import { LAB_ENV, SEEDS_ENV, TESTS_ENV } from './env';

/** Stryker's instrumented code reads the active mutant from this global, or from this variable in a child process. */
interface StrykerGlobal {
  __stryker__?: { activeMutant?: string };
}
const ACTIVE_MUTANT_ENV = '__STRYKER_ACTIVE_MUTANT__';

const ROOT = path.resolve(__dirname, '..', '..');
const lab = process.env[LAB_ENV];
if (!lab) throw new Error(`${LAB_ENV} is not set: run this spec through \`npm run mutation -- labN\`, not directly.`);
const seeds = (process.env[SEEDS_ENV] ?? '1,2,3').split(',').map(Number);
const only = process.env[TESTS_ENV] ? process.env[TESTS_ENV].split(',') : undefined;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { suite } = require(path.join(ROOT, lab, 'test', 'suite.ts')) as { suite: LabSuite<unknown> };

/** The kit's choice (tester/kit.ts): one seed for memory and real-time tests, which are slow, several otherwise. */
function seedsFor(test: NamedTest<unknown>): readonly number[] {
  return test.realTime || test.name.startsWith('TestMem') ? seeds.slice(0, 1) : seeds;
}

describe(`${lab}: the named tests against solutions/${lab}`, function () {
  this.timeout(600_000);
  const impl = suite.load(path.join(ROOT, 'solutions', lab));

  beforeEach(() => {
    // A child process the test starts (lab 5's kill -9 tests) runs the mutant that is active here.
    const active = (globalThis as StrykerGlobal).__stryker__?.activeMutant;
    if (active === undefined) delete process.env[ACTIVE_MUTANT_ENV];
    else process.env[ACTIVE_MUTANT_ENV] = String(active);
  });

  for (const test of suite.tests.filter((t) => !only || only.includes(t.name))) {
    it(test.name, async () => {
      for (const seed of seedsFor(test)) {
        const outcome = await runNamedTest(test, impl, seed);
        expect(outcome.status, `${test.name} seed=${seed}: ${outcome.message}`).to.equal('passed');
      }
    });
  }
});
