/** A test's processes are held to a whole-memory limit (resident set, Buffers included): going over fails that test only, naming the limit. */
import { expect } from 'chai';
import path from 'node:path';
import type { Job } from '../../../grader/protocol';
import { residentLimitMb } from '../../../grader/memory-limit';
import { runJobs } from '../../../grader/supervisor';
import { materialiseMutant, removeMutant, type Mutant } from '../../../solutions/mutants';
import { HOARD_REPLACEMENT, LAB2_REFUSED } from './attacks';

const KIT = path.resolve(__dirname, '..', '..', '..');
const HEAP_MB = 1024;

/** Lab 2's reference, each of its servers holding 3 GiB of typed arrays (outside V8's heap). */
const HOARD: Mutant = {
  name: 'memory-hoard',
  description: '3 GiB of typed arrays kept on the global',
  file: 'server.ts',
  replace: [HOARD_REPLACEMENT],
  caughtBy: [],
};

/** Status and message of lab 2's TestReliablePut and TestReliableBasic for the code in `dir`. */
async function graded(dir: string): Promise<Array<[string, string, string]>> {
  const jobs: Job[] = ['TestReliablePut', 'TestReliableBasic'].map((test, index) => ({
    index,
    test,
    seed: 5,
    realLimitMs: 60_000,
  }));
  const records = await runJobs(jobs, {
    config: { suitePath: path.join(KIT, 'lab2', 'test', 'suite.ts'), implDir: dir },
    heapLimitMb: HEAP_MB,
    killGraceMs: 2000,
    bootTimeoutMs: 60_000,
  });
  return records.map((r) => [r.name, r.status, r.message]);
}

describe('grader: the whole memory of a test’s processes is bounded', function () {
  this.timeout(240_000);

  it('fails each test of code that holds 3 GiB of Buffers, naming the limit, while a classmate graded beside it keeps every point', async () => {
    const hoard = materialiseMutant(path.join(KIT, 'solutions', 'lab2'), HOARD);
    try {
      const [greedy, honest] = await Promise.all([graded(hoard), graded(path.join(KIT, 'solutions', 'lab2'))]);
      expect(honest.map(([n, s]) => [n, s])).to.deep.equal([
        ['TestReliablePut', 'passed'],
        ['TestReliableBasic', 'passed'],
      ]);
      const limit = residentLimitMb(HEAP_MB);
      for (const [name, status, message] of greedy) {
        expect(status, name).to.equal('failed');
        expect(message, name)
          .to.match(LAB2_REFUSED.hoard)
          .and.contain(`more than the ${limit} MB the grader allows`)
          .and.contain('Buffers');
      }
    } finally {
      removeMutant(hoard);
    }
  });
});
