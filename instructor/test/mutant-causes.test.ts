/**
 * Every kit mutant of labs 1-7 declares its cause: a few words a student should look for, which the failure catching
 * it must contain (checked by each lab's mutants.full.test.ts, which needs the gradings; this is the cheap half).
 */
import { expect } from 'chai';
import type { Mutant } from '../../solutions/mutants';

/** The labs whose mutants carry causes. */
const LABS = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5', 'lab6', 'lab7'] as const;

describe('kit: every mutant names the cause its failure must show', function () {
  for (const lab of LABS) {
    it(`${lab}: each mutant declares a cause of a few words, not the whole description`, () => {
      const { mutants } = require(`../../solutions/${lab}/mutants`) as { mutants: readonly Mutant[] };
      const missing = mutants.filter((m) => typeof m.cause !== 'string' || m.cause.trim().length < 6);
      expect(
        missing.map((m) => m.name),
        `${lab} mutants without a cause`,
      ).to.deep.equal([]);
      const long = mutants.filter((m) => (m.cause as string).length > 120);
      expect(
        long.map((m) => m.name),
        `${lab} mutants whose cause is a paragraph, not a phrase`,
      ).to.deep.equal([]);
    });
  }
});
