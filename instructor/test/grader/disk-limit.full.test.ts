/** What the code under test writes is bounded: a scratch folder over its limit fails that test only, naming the limit. */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SCRATCH_ENTRY_LIMIT, folderUsage } from '../../../grader/disk-limit';
import type { Job } from '../../../grader/protocol';
import { runJobs } from '../../../grader/supervisor';
import { materialiseMutant, removeMutant, type Mutant } from '../../../solutions/mutants';

const KIT = path.resolve(__dirname, '..', '..', '..');
const START = 'export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {';

/** Lab 5's reference, writing 64 MB of files into its data folder at every start. */
const FILLER: Mutant = {
  name: 'disk-filler',
  description: '64 MB of files written into the data folder at every start',
  file: 'server.ts',
  replace: [
    ["import * as net from 'node:net';", "import * as net from 'node:net';\nimport * as fs from 'node:fs';"],
    [
      START,
      `${START}\n  if (options.dataDir !== undefined)\n    for (let i = 0; i < 8; i++)\n` +
        '      fs.writeFileSync(`${options.dataDir}/filler-${i}-${Date.now()}`, new Uint8Array(8 << 20).fill(7));',
    ],
  ],
  caughtBy: [],
};

/** Status, crash and message of lab 5's TestRestartRecovery for the code in `dir`, its scratch folder held to `limitMb`. */
async function graded(dir: string, limitMb?: number): Promise<[string, string, string]> {
  const job: Job = { index: 0, test: 'TestRestartRecovery', seed: 5, realLimitMs: 120_000 };
  const [r] = await runJobs([job], {
    config: { suitePath: path.join(KIT, 'lab5', 'test', 'suite.ts'), implDir: dir },
    heapLimitMb: 1024,
    scratchLimitMb: limitMb,
    killGraceMs: 2000,
    bootTimeoutMs: 60_000,
  });
  return [r.status, r.crash ?? '', r.message];
}

describe('grader: what the code under test writes to disk is bounded', function () {
  this.timeout(240_000);

  it('fails a test whose code fills its data folder past the limit, naming it, while a classmate graded beside it passes', async () => {
    const filler = materialiseMutant(path.join(KIT, 'solutions', 'lab5'), FILLER);
    try {
      const [greedy, honest] = await Promise.all([graded(filler, 32), graded(path.join(KIT, 'solutions', 'lab5'))]);
      expect(honest[0], honest[2]).to.equal('passed');
      expect(greedy[0]).to.equal('failed');
      expect(greedy[1]).to.equal('out-of-disk');
      expect(greedy[2])
        .to.match(/^Out of disk/)
        .and.contain('more than the 32 MB the grader allows');
    } finally {
      removeMutant(filler);
    }
  });

  it('weighs the blocks a folder really uses (a sparse file counts nothing), and stops counting past the entry limit', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-disk-'));
    try {
      fs.writeFileSync(path.join(dir, 'dense'), new Uint8Array(1 << 20).fill(1));
      const fd = fs.openSync(path.join(dir, 'sparse'), 'w');
      fs.ftruncateSync(fd, 1 << 30);
      fs.closeSync(fd);
      fs.mkdirSync(path.join(dir, 'sub'));
      fs.writeFileSync(path.join(dir, 'sub', 'inner'), new Uint8Array(1 << 20).fill(1));
      const usage = folderUsage(dir);
      expect(usage.entries).to.equal(4);
      expect(usage.bytes).to.be.within(2 << 20, 3 << 20);
      expect(folderUsage(dir, 2).entries).to.equal(3);
      expect(SCRATCH_ENTRY_LIMIT).to.be.above(1000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
