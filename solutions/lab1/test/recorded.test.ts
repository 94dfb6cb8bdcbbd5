/** Lab 1's recorded runs: a memory test judges a recorded replay as it judged the run (the trace keeps no value). */
import * as path from 'node:path';
import { expect } from 'chai';
import { runNamedTest } from '../../../suite';
import { suite } from '../../../lab1/test/suite';
import { materialiseMutant, removeMutant } from '../../mutants';
import { mutants } from '../mutants';

describe('lab1: recorded runs', () => {
  it("fails a server keeping a put's 10 MiB value in TestMemPut's recorded replay too", async () => {
    const mutant = mutants.find((m) => m.name === 'remembers-arguments');
    const test = suite.tests.find((t) => t.name === 'TestMemPut');
    if (!mutant || !test) throw new Error('lab 1 lost the mutant remembers-arguments or the test TestMemPut');
    const dir = materialiseMutant(path.resolve(__dirname, '..'), mutant);
    try {
      const impl = suite.load(dir);
      for (const record of [false, true]) {
        const out = await runNamedTest(test, impl, 1, { record });
        expect(out.status, `recorded: ${record}; ${out.message}`).to.equal('failed');
      }
    } finally {
      removeMutant(dir);
    }
  });
});
