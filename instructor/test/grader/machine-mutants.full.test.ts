/**
 * Mutants whose bug lives in a module's own state, graded as the grader runs them: each Lock's machine is its
 * clerk's (one copy of lock.ts per clerk) and each harness object one facade, so an id made when the module loads,
 * or one kept per clerk in a table, is shared as it would be in any program, and caught.
 */
import { expect } from 'chai';
import path from 'node:path';
import { mutants as lab2Mutants } from '../../../solutions/lab2/mutants';
import { materialiseMutant, removeMutant } from '../../../solutions/mutants';
import { gradedInProcess } from './helpers';

const KIT = path.resolve(__dirname, '..', '..', '..');

describe('grader: a bug in module-level state is graded as it runs in a program', function () {
  this.timeout(300_000);

  for (const name of ['shared-lock-id', 'lock-id-per-clerk']) {
    const mutant = lab2Mutants.find((m) => m.name === name);
    if (!mutant) throw new Error(`no lab 2 mutant named ${name}`);
    it(`lab2: ${name} fails TestLocksShareClerkReliable under the grader; the reference passes it`, async () => {
      const dir = materialiseMutant(path.join(KIT, 'solutions', 'lab2'), mutant);
      try {
        const [status, message] = await gradedInProcess('lab2', 'TestLocksShareClerkReliable', dir);
        expect(status, message).to.equal('failed');
        expect(message).to.contain(mutant.cause);
      } finally {
        removeMutant(dir);
      }
      const [status, message] = await gradedInProcess(
        'lab2',
        'TestLocksShareClerkReliable',
        path.join(KIT, 'solutions', 'lab2'),
      );
      expect(status, message).to.equal('passed');
    });
  }
});
