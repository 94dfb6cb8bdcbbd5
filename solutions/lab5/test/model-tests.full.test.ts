/**
 * The kit's checks that lab 5's TestCommandModel and TestLongLife go red on chosen kit mutants, with a failure that
 * names the step (and, for the model, a shrunk replay with its seed). Long (real-time grading of several mutants):
 * part of `npm run test:full`.
 */
import { expect } from 'chai';
import * as path from 'node:path';
import { materialiseMutant, removeMutant } from '../../mutants';
import { runNamedTest } from '../../../suite';
import { mutants } from '../mutants';
import { suite } from '../../../lab5/test/suite';

const SOLUTION_DIR = path.resolve(__dirname, '..');

/** Grades `testName` on the mutant `name` (seed 1) and returns the outcome's status and message. */
async function gradeMutant(testName: string, name: string): Promise<{ status: string; message: string }> {
  const mutant = mutants.find((m) => m.name === name);
  if (mutant === undefined) throw new Error(`no kit mutant ${name}`);
  const test = suite.tests.find((t) => t.name === testName)!;
  const dir = materialiseMutant(SOLUTION_DIR, mutant);
  try {
    const o = await runNamedTest(test, suite.load(dir), 1);
    return { status: o.status, message: o.message ?? '' };
  } finally {
    removeMutant(dir);
  }
}

describe('lab5 TestCommandModel against kit mutants', function () {
  this.timeout(180_000);
  const cases: Array<[string, RegExp]> = [
    ['commands-after-quit-run', /./],
    ['abort-mark-kept-across-transactions', /EXEC/],
    ['set-keeps-ttl', /TTL/],
    ['scan-returns-expired', /./],
    ['no-overflow-check', /overflow/],
  ];
  for (const [name, mentions] of cases)
    it(`goes red on "${name}" with a shrunk replay, the seed and the command that reruns it`, async () => {
      const o = await gradeMutant('TestCommandModel', name);
      expect(o.status, o.message).to.equal('failed');
      expect(o.message).to.match(mentions);
      expect(o.message).to.contain('The shortest failing sequence found');
      expect(o.message).to.contain('npm run grade lab5 -- --test TestCommandModel --seed 1');
      expect(o.message).to.match(/Likely causes: /);
      const packets = /\((\d+) packet\(s\), shrunk from (\d+)/.exec(o.message);
      expect(packets, 'the size of the shrunk sequence').to.not.equal(null);
      expect(Number(packets![1])).to.be.at.most(Number(packets![2]));
      expect(Number(packets![1]), 'shrunk to a handful of packets').to.be.at.most(6);
    });
});

describe('lab5 TestLongLife against kit mutants', function () {
  this.timeout(240_000);
  const cases: Array<[string, RegExp]> = [
    ['connection-kept-after-close', /Step 1 \(connections by the thousand\).*live memory grew/],
    ['queued-bytes-kept-across-exec', /Step 2 \(many transactions on one long-lived connection\)/],
  ];
  for (const [name, says] of cases)
    it(`goes red on "${name}", naming the step and the promise`, async () => {
      const o = await gradeMutant('TestLongLife', name);
      expect(o.status, o.message).to.equal('failed');
      expect(o.message).to.match(says);
      expect(o.message).to.match(/Likely causes/);
    });
});
