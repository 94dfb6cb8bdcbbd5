/**
 * The kit's own checks of lab 1: the reference solution passes every named test, the untouched skeleton fails
 * every one without crashing, runs replay exactly, the rubric matches the suite, and every mutant is caught.
 */
import { expect } from 'chai';
import * as path from 'node:path';
import { materialiseMutant, removeMutant } from '../../../tester/mutants';
import { runNamedTest } from '../../../tester/suite';
import { mutants } from '../../../solutions/lab1/mutants';
import { suite } from '../suite';
import rubric from '../rubric.json';

const SOLUTION_DIR = path.resolve(__dirname, '../../../solutions/lab1');
const SKELETON_DIR = path.resolve(__dirname, '../..');
const SEEDS = [1, 2, 3];
/** Tests that cost seconds of real time each (large workloads, memory measurements) run on one seed here. */
const HEAVY = /^Test(Mem|Basic$|Concurrent$)/;

function seedsFor(name: string): number[] {
  return HEAVY.test(name) ? [1] : SEEDS;
}

describe('lab1 suite', function () {
  this.timeout(120_000);
  const solution = suite.load(SOLUTION_DIR);

  it('has a rubric entry for every named test, worth 100 points in all', () => {
    expect(Object.keys(rubric.tests).sort()).to.deep.equal(suite.tests.map((t) => t.name).sort());
    expect(Object.values(rubric.tests).reduce((sum, t) => sum + t.points, 0)).to.equal(100);
  });

  for (const test of suite.tests) {
    const seeds = seedsFor(test.name);
    it(`solution passes ${test.name} (seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')})`, async () => {
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
    const test = suite.tests.find((t) => t.name === 'TestUnreliableShards')!;
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
        let caught: string | undefined;
        for (const name of mutant.caughtBy) {
          const test = suite.tests.find((t) => t.name === name);
          expect(test, `mutant names unknown test ${name}`).to.not.equal(undefined);
          for (const seed of seedsFor(name)) {
            const outcome = await runNamedTest(test!, impl, seed);
            if (outcome.status === 'failed') caught = `${name} seed=${seed}`;
            if (caught) break;
          }
          if (caught) break;
        }
        expect(caught, `no test among ${mutant.caughtBy.join(', ')} caught it`).to.not.equal(undefined);
      } finally {
        removeMutant(dir);
      }
    });
  }
});
