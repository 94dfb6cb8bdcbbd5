/** Lab 5's reference solution passes every named test (real sockets and real time, about 70 s: in npm run test:full). */
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
