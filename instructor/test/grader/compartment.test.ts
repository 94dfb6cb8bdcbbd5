/** The grader's compartment changes nothing a correct solution can observe: same seed, same run, same trace hash. */
import { expect } from 'chai';
import path from 'node:path';
import { grade } from '../../../grader';
import { runNamedTest } from '../../../suite';
import { suite } from '../../../lab2/test/suite';

/** Output nobody reads. */
const quiet = { write: (): boolean => true, isTTY: false };

// Not TestNemesisKV: its memory round weighs the heap, and weighs again on a fresh server when the first reading is
// over the bound, so its run follows the heap, which is not the same inside the sandbox and outside it.
const TESTS = ['TestUnreliableNet', 'TestManyClientsUnreliable', 'TestNemesisLock'];
const SEED = 3;

describe('grader: the compartment keeps runs exact', function () {
  this.timeout(120_000);

  it('grades lab 2’s reference with the trace hash of the same seed run by node’s loader, outside any sandbox', async () => {
    const graded = await grade({
      lab: 'lab2',
      target: 'solution',
      seed: SEED,
      tests: TESTS,
      writeReports: false,
      color: false,
      out: quiet,
      err: quiet,
      env: {},
    });
    const impl = suite.load(path.join(__dirname, '..', '..', '..', 'solutions', 'lab2'));
    for (const name of TESTS) {
      const test = suite.tests.find((t) => t.name === name);
      if (!test) throw new Error(`lab 2 has no ${name} any more`);
      const direct = await runNamedTest(test, impl, SEED);
      const sandboxed = graded.labs[0].tests.find((t) => t.name === name);
      expect(direct.status, name).to.equal('passed');
      expect(sandboxed?.status, name).to.equal('passed');
      expect(sandboxed?.traceHash, name).to.equal(direct.traceHash);
    }
  });
});
