/**
 * No verdict rests on a secret code under test can read: lab 5's host signs its lines with a key that never passes
 * through node's shared Buffer pool, and a forged spy report (a line that claims the log was fsynced) on the host's
 * descriptors fails a test that the honest code fails, instead of passing it.
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import path from 'node:path';
import type { Job } from '../../../grader/protocol';
import { runJobs } from '../../../grader/supervisor';
import { materialiseMutant, removeMutant, type Mutant } from '../../../solutions/mutants';
import { mutants } from '../../../solutions/lab5/mutants';
import { KEY_BYTES, newSigningKey, sign, signingKey } from '../../../lab5/test/host-protocol';

const KIT = path.resolve(__dirname, '..', '..', '..');

/** True when `bytes` appear anywhere in node's current shared Buffer pool (what `Buffer.from('x').buffer` shows any code). */
function inPool(bytes: Buffer): boolean {
  const probe = Buffer.from('x');
  return Buffer.from(probe.buffer).indexOf(bytes) !== -1;
}

/** A SyncWatch report that claims every write was fsynced before its reply, as lines for request ids 1..200 (unsigned). */
const FORGED_REPORTS = Array.from(
  { length: 200 },
  (_, i) =>
    `${'0'.repeat(64)} {"id":${i + 1},"value":{"now":1000,"syncs":[1,3,5,7,9,11,13,15,17,19],"replies":[2,4,6,8,10,12,14,16,18,20]}}\n`,
).join('');

describe('grader: no verdict rests on a secret inside a process that runs student code', function () {
  this.timeout(240_000);

  it('the host’s signing key never lies in the shared Buffer pool, however many lines it signs (Buffer.from(hex) put it there)', () => {
    const hex = newSigningKey();
    const bytes = Buffer.alloc(KEY_BYTES, hex, 'hex');
    const key = signingKey(hex);
    for (let i = 0; i < 100; i++) sign(key, i, `{"id":${i}}`);
    expect(inPool(bytes), 'signingKey leaves the key in the pool').to.equal(false);
    // The way it was: each signature made the key's bytes afresh from the pool, where any code could read them.
    crypto.createHmac('sha256', Buffer.from(hex, 'hex')).update('x').digest('hex');
    expect(inPool(bytes), 'the check finds a key in the pool when one is there').to.equal(true);
  });

  it('a forged spy report claiming fsyncs does not pass TestFsyncPolicy for a server that never fsyncs', async () => {
    const noFsync = mutants.find((m) => m.name === 'no-fsync');
    if (!noFsync) throw new Error('lab 5 has no no-fsync mutant any more; pick another that TestFsyncPolicy catches');
    const forger: Mutant = {
      ...noFsync,
      name: 'no-fsync-forged-report',
      replace: [
        [
          "    if (this.fsync === 'always') this.sync();\n",
          `    for (let fd = 3; fd < 64; fd++) {\n      try {\n        fs.writeSync(fd, ${JSON.stringify(FORGED_REPORTS)});\n      } catch {\n        // not open, or not writable\n      }\n    }\n`,
        ],
      ],
    };
    const graded = async (m: Mutant): Promise<string[]> => {
      const dir = materialiseMutant(path.join(KIT, 'solutions', 'lab5'), m);
      try {
        const jobs: Job[] = [{ index: 0, test: 'TestFsyncPolicy', seed: 1, realLimitMs: 60_000 }];
        const [r] = await runJobs(jobs, {
          config: { suitePath: path.join(KIT, 'lab5', 'test', 'suite.ts'), implDir: dir },
          heapLimitMb: 1024,
          killGraceMs: 2000,
          bootTimeoutMs: 60_000,
        });
        return [r.status, r.message];
      } finally {
        removeMutant(dir);
      }
    };
    const [honest, forged] = await Promise.all([graded(noFsync), graded(forger)]);
    expect(honest[0], honest[1]).to.equal('failed');
    expect(forged[0], 'the forged report passed the test').to.equal('failed');
  });
});
