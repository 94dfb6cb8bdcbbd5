/**
 * The kit's standard checks of one lab, as mocha tests: the rubric matches the suite, the reference solution
 * passes every named test, the untouched skeleton fails every one with a TODO message, a seed replays a run
 * exactly (`describeLabKit`, in `npm test`); every mutant of the solution is caught by one of the tests it names,
 * and every correct variant passes the tests it names (`describeLabKitMutants`, in `npm run test:full`).
 * Each lab's `solutions/labN/test/labN.test.ts` calls `describeLabKit` and adds what is particular to the lab; its
 * `mutants.full.test.ts` calls `describeLabKitMutants` with the same options (`kit-options.ts`).
 */
import { rubricOf } from '../grader/rubric';
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withSuite } from '../instructor/handouts';
import { Mutant, Variant, materialiseMutant, namesCause, removeMutant } from './mutants';
import { LabSuite, NamedTest, runNamedTest } from '../suite';

/** What the standard checks need to know about a lab. */
export interface LabKitOptions<Impl> {
  /** The lab's suite. */
  suite: LabSuite<Impl>;
  /** The lab folder (skeleton files, handout and test/suite.ts). */
  labDir: string;
  /** The reference solution's folder. */
  solutionDir: string;
  /** The solution's mutants. */
  mutants: readonly Mutant[];
  /** Correct variants of the solution: each must pass the tests it names (default none). */
  variants?: readonly Variant[];
  /** A simulated test whose replay is checked (same seed, same outcome; another seed, another trace). */
  replayTest: string;
  /** Seeds for the solution and the mutants (default 1, 2, 3). */
  seeds?: readonly number[];
  /** Seeds for one test; by default one seed for memory, real-time and generic tests, which are slow. */
  seedsFor?: (test: NamedTest<Impl>) => readonly number[];
}

/** The seeds each test runs on for a lab's options: by default one seed for memory, real-time and generic tests. */
function seedsOf<Impl>(options: LabKitOptions<Impl>): (test: NamedTest<Impl>) => readonly number[] {
  const seeds = options.seeds ?? [1, 2, 3];
  return (
    options.seedsFor ??
    // Memory, real-time and generic tests run one seed here: they are slow, and a generic test already plays
    // several rounds per run (npm run sweep proves them on many seeds).
    ((t: NamedTest<Impl>) => (t.realTime || t.generic || t.name.startsWith('TestMem') ? [1] : seeds))
  );
}

/** A finder of the suite's named tests that throws on an unknown name. */
function testFinder<Impl>(suite: LabSuite<Impl>): TestByName<Impl> {
  return (name: string): NamedTest<Impl> => {
    const test = suite.tests.find((t) => t.name === name);
    if (!test) throw new Error(`${suite.lab} has no named test ${name}`);
    return test;
  };
}

/** Defines the standard mocha checks of a lab that `npm test` runs (the mutants and variants are describeLabKitMutants'). */
export function describeLabKit<Impl>(options: LabKitOptions<Impl>): void {
  const { suite, labDir, solutionDir, replayTest } = options;
  const seedsFor = seedsOf(options);
  const byName = testFinder(suite);

  describe(`${suite.lab} suite (standard checks)`, function () {
    this.timeout(180_000);
    const solution = suite.load(solutionDir);

    itChecksScoring(suite);
    itChecksHandoutTable(suite, labDir);

    for (const test of suite.tests) {
      // The reference on the first two of the test's seeds (npm run sweep proves it on 1,000); a mutant may need them all.
      const testSeeds = seedsFor(test).slice(0, 2);
      it(`solution passes ${test.name} (seeds ${testSeeds.join(', ')})`, async () => {
        for (const seed of testSeeds) {
          const outcome = await runNamedTest(test, solution, seed);
          expect(outcome.status, `${test.name} seed=${seed}: ${outcome.message}`).to.equal('passed');
        }
      });
    }

    it('skeleton fails every test with a message pointing at the handout', async () => {
      const skeleton = suite.load(labDir);
      for (const test of suite.tests) {
        const outcome = await runNamedTest(test, skeleton, 1);
        expect(outcome.status, test.name).to.equal('failed');
        expect(outcome.message, test.name).to.match(/TODO|not implemented/);
      }
    });

    it(`replays a run exactly from its seed (${replayTest}: same trace hash and counts)`, async () => {
      const test = byName(replayTest);
      const a = await runNamedTest(test, solution, 77);
      const b = await runNamedTest(test, solution, 77);
      const c = await runNamedTest(test, solution, 78);
      expect({ ...b, realMs: 0 }).to.deep.equal({ ...a, realMs: 0 });
      expect(c.traceHash).to.not.equal(a.traceHash);
    });
  });
}

/**
 * Defines the long mocha checks of a lab that `npm run test:full` runs: every correct variant passes the tests it
 * names, and every mutant is caught by one of the tests it names.
 */
export function describeLabKitMutants<Impl>(options: LabKitOptions<Impl>): void {
  const seedsFor = seedsOf(options);
  const byName = testFinder(options.suite);

  describe(`${options.suite.lab} suite (mutants and correct variants)`, function () {
    this.timeout(180_000);
    for (const variant of options.variants ?? []) itPassesVariant(options, variant, byName, seedsFor);
    for (const mutant of options.mutants) itCatchesMutant(options, mutant, byName, seedsFor);
  });
}

/** Finds a named test of the suite, or throws. */
type TestByName<Impl> = (name: string) => NamedTest<Impl>;

/** The mocha check that a correct variant of the solution passes every test it names, on each test's seeds. */
function itPassesVariant<Impl>(
  options: LabKitOptions<Impl>,
  variant: Variant,
  byName: TestByName<Impl>,
  seedsFor: (test: NamedTest<Impl>) => readonly number[],
): void {
  it(`passes the correct variant "${variant.name}" (${variant.description})`, async () => {
    const dir = materialiseMutant(options.solutionDir, variant);
    try {
      const impl = options.suite.load(dir);
      for (const name of variant.passes) {
        const test = byName(name);
        for (const seed of seedsFor(test)) {
          const outcome = await runNamedTest(test, impl, seed);
          expect(outcome.status, `${name} seed=${seed}: ${outcome.message}`).to.equal('passed');
        }
      }
    } finally {
      removeMutant(dir);
    }
  });
}

/**
 * The mocha check that one of the tests a mutant names catches it, on some seed of that test, with a failure message
 * that names the mutant's cause (a student reading it is sent after the right bug).
 */
function itCatchesMutant<Impl>(
  options: LabKitOptions<Impl>,
  mutant: Mutant,
  byName: TestByName<Impl>,
  seedsFor: (test: NamedTest<Impl>) => readonly number[],
): void {
  it(`catches the mutant "${mutant.name}" (${mutant.description})`, async () => {
    const dir = materialiseMutant(options.solutionDir, mutant);
    try {
      const impl = options.suite.load(dir);
      let caught = '';
      let message = '';
      for (const name of mutant.caughtBy) {
        const test = byName(name);
        for (const seed of seedsFor(test)) {
          const outcome = await runNamedTest(test, impl, seed);
          if (outcome.status === 'failed') [caught, message] = [`${name} seed=${seed}`, outcome.message];
          if (caught) break;
        }
        if (caught) break;
      }
      expect(caught, `no test among ${mutant.caughtBy.join(', ')} caught it`).to.not.equal('');
      // Every lab declares a cause for every mutant (instructor/test/mutant-causes.test.ts).
      if (mutant.cause === undefined) return;
      expect(
        namesCause(message, mutant.cause),
        `${caught}'s failure does not name the mutant's cause "${mutant.cause}": add it to the message's likely causes, ` +
          `worded for a student. The message was:\n${message}`,
      ).to.equal(true);
    } finally {
      removeMutant(dir);
    }
  });
}

/**
 * The mocha check that a suite's tests have distinct names and valid scorings whose points add up to 100, with the
 * points of parts still to come (LabSuite.pointsToCome) when a lab is being built.
 */
export function itChecksScoring<Impl>(suite: LabSuite<Impl>): void {
  const toCome = suite.pointsToCome ?? 0;
  const also = toCome > 0 ? ` with the ${toCome} of parts to come` : '';
  it(`the suite's tests have distinct names and valid scorings, and their points sum to 100${also}`, () => {
    const rubric = rubricOf(suite as LabSuite<unknown>, `${suite.lab}/test/suite.ts`);
    expect(Object.keys(rubric.tests)).to.have.length(suite.tests.length);
    expect(toCome).to.be.within(0, 99);
    expect(suite.tests.reduce((sum, t) => sum + t.points, 0) + toCome).to.equal(100);
  });
}

/** The mocha check that the handout's table of named tests is the one `npm run handouts` writes from the suite (each lab's kit calls it, through describeLabKit or directly). */
export function itChecksHandoutTable<Impl>(suite: LabSuite<Impl>, labDir: string): void {
  it("the handout's table of named tests is the suite's: each test's part, points and description", () => {
    const readme = fs.readFileSync(path.join(labDir, 'README.md'), 'utf8');
    const want = withSuite(readme, suite as LabSuite<unknown>);
    expect(
      readme === want,
      `${suite.lab}/README.md's table of named tests is not the suite's: run npm run handouts (it rewrites the table from ${suite.lab}/test/suite.ts).`,
    ).to.equal(true);
  });
}
