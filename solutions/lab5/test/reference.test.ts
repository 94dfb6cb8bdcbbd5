/** Lab 5's reference solution passes every named test (real sockets and real time: a file of its own, run beside lab5.test.ts). */
import { expect } from 'chai';
import * as path from 'node:path';
import { runNamedTest } from '../../../suite';
import { suite } from '../../../lab5/test/suite';

const SOLUTION_DIR = path.resolve(__dirname, '..');

describe('lab5 reference', function () {
  this.timeout(120_000);
  const solution = suite.load(SOLUTION_DIR);

  for (const test of suite.tests) {
    it(`solution passes ${test.name}`, async () => {
      const outcome = await runNamedTest(test, solution, 1);
      expect(outcome.status, `${test.name}: ${outcome.message}`).to.equal('passed');
    });
  }
});
