/**
 * The kit's check of a model-based test (suite/model-based.ts): it passes the reference, fails each named kit mutant
 * with a replay of a short failing sequence, and replays that failure exactly from the seed.
 */
import { expect } from 'chai';
import { materialiseMutant, removeMutant, type Mutant } from './mutants';
import { LabSuite, runNamedTest } from '../suite';

/** What to check of one model-based test. */
export interface ModelKitOptions<Impl> {
  readonly suite: LabSuite<Impl>;
  readonly solutionDir: string;
  readonly mutants: readonly Mutant[];
  /** The model-based test's name. */
  readonly test: string;
  /** Kit mutants it must catch on `seed`. */
  readonly catches: readonly string[];
  /** The seed of every run (default 1). */
  readonly seed?: number;
  /** The longest failing sequence a mutant's failure may print once shrunk (default 6 steps). */
  readonly maxSteps?: number;
}

/** The numbered steps of a model-based failure's replay. */
function replaySteps(message: string): string[] {
  return message.split('\n').filter((l) => /^\s+\d+\. /.test(l));
}

/** Defines the mocha checks of one model-based test. */
export function describeModelTest<Impl>(options: ModelKitOptions<Impl>): void {
  const { suite, test: name, seed = 1, maxSteps = 6 } = options;
  const test = suite.tests.find((t) => t.name === name);
  describe(`${suite.lab} ${name} (a model-based test)`, function () {
    this.timeout(180_000);

    it(`passes the reference solution (seed ${seed})`, async () => {
      expect(test, `${suite.lab} has no test ${name}`).to.not.equal(undefined);
      const outcome = await runNamedTest(test!, suite.load(options.solutionDir), seed);
      expect(outcome.status, outcome.message).to.equal('passed');
    });

    for (const mutantName of options.catches) {
      it(`fails the kit mutant "${mutantName}" with a replay of at most ${maxSteps} steps, the same on a second run`, async () => {
        const mutant = options.mutants.find((m) => m.name === mutantName);
        expect(mutant, `no kit mutant ${mutantName}`).to.not.equal(undefined);
        const dir = materialiseMutant(options.solutionDir, mutant!);
        try {
          const impl = suite.load(dir);
          const first = await runNamedTest(test!, impl, seed);
          expect(first.status, `${mutantName} passed ${name} on seed ${seed}`).to.equal('failed');
          expect(first.message).to.match(/disagree at step \d+ of this sequence/);
          expect(first.message).to.match(/Likely causes: /);
          const steps = replaySteps(first.message);
          expect(steps.length, first.message).to.be.within(1, maxSteps);
          const again = await runNamedTest(test!, impl, seed);
          expect(again.message).to.equal(first.message);
        } finally {
          removeMutant(dir);
        }
      });
    }
  });
}
