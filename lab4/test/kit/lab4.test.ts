/**
 * The kit's own checks of lab 4: the reference solution passes every named test, the untouched skeleton
 * fails every one without crashing, runs replay exactly, and every mutant is caught by a named test.
 */
import { expect } from 'chai';
import * as path from 'node:path';
import { materialiseMutant, removeMutant } from '../../../tester/mutants';
import { runNamedTest } from '../../../tester/suite';
import { mutants } from '../../../solutions/lab4/mutants';
import { suite } from '../suite';

const SOLUTION_DIR = path.resolve(__dirname, '../../../solutions/lab4');
const SKELETON_DIR = path.resolve(__dirname, '../..');
const SEEDS = [1, 2, 3];

describe('lab4 suite', function () {
  this.timeout(120_000);
  const solution = suite.load(SOLUTION_DIR);

  it('rubric names exactly the suite tests, and points sum to 100', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const rubric = require('../rubric.json') as { tests: Record<string, { points: number }> };
    expect(Object.keys(rubric.tests).sort()).to.deep.equal(suite.tests.map((t) => t.name).sort());
    expect(Object.values(rubric.tests).reduce((s, t) => s + t.points, 0)).to.equal(100);
  });

  for (const test of suite.tests) {
    const seeds = test.realTime ? [1] : SEEDS;
    it(`solution passes ${test.name} (seeds ${seeds.join(', ')})`, async () => {
      for (const seed of seeds) {
        const outcome = await runNamedTest(test, solution, seed);
        expect(outcome.status, `${test.name} seed=${seed}: ${outcome.message}`).to.equal('passed');
      }
    });
  }

  it('skeleton fails every test with a message pointing at the handout', async () => {
    const skeleton = suite.load(SKELETON_DIR);
    for (const test of suite.tests) {
      const outcome = await runNamedTest(test, skeleton, 1);
      expect(outcome.status, test.name).to.equal('failed');
      expect(outcome.message, test.name).to.match(/TODO|not implemented/);
    }
  });

  it('replays a run exactly from its seed (same trace hash and counts)', async () => {
    const test = suite.tests.find((t) => t.name === 'TestSeedLoadUnreliable')!;
    const a = await runNamedTest(test, solution, 77);
    const b = await runNamedTest(test, solution, 77);
    const c = await runNamedTest(test, solution, 78);
    expect({ ...b, realMs: 0 }).to.deep.equal({ ...a, realMs: 0 });
    expect(c.traceHash).to.not.equal(a.traceHash);
  });

  for (const mutant of mutants) {
    it(`catches the mutant "${mutant.name}" (${mutant.description})`, async () => {
      const dir = materialiseMutant(SOLUTION_DIR, mutant);
      try {
        const impl = suite.load(dir);
        const failed: string[] = [];
        for (const name of mutant.caughtBy) {
          const test = suite.tests.find((t) => t.name === name);
          expect(test, `mutant names unknown test ${name}`).to.not.equal(undefined);
          for (const seed of SEEDS) {
            const outcome = await runNamedTest(test!, impl, seed);
            if (outcome.status === 'failed') {
              failed.push(`${name} seed=${seed}`);
              break;
            }
          }
        }
        expect(failed, `no test among ${mutant.caughtBy.join(', ')} caught it`).to.not.be.empty;
      } finally {
        removeMutant(dir);
      }
    });
  }
});
