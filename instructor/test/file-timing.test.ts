/** The file-timing reporter's pieces: the table of the slowest files, and the CPU clock that counts child processes. */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { cpuMsWithChildren, slowestTable, type FileTiming } from '../file-timing';

describe('the slowest test files (npm run test:slowest)', () => {
  it('lists the n slowest files, slowest first, with the total of all files', () => {
    const timings: FileTiming[] = [
      { file: 'a.test.ts', wallMs: 1000, cpuMs: 500, tests: 3 },
      { file: 'b.test.ts', wallMs: 30_000, cpuMs: 20_000, tests: 7 },
      { file: 'c.test.ts', wallMs: 5000, cpuMs: 4000, tests: 1 },
    ];
    const lines = slowestTable(timings, 2).split('\n');
    expect(lines[0]).to.contain('The 2 slowest of 3 test files');
    expect(lines[1]).to.match(/^\s+30\.0\s+20\.0\s+7\s+b\.test\.ts$/);
    expect(lines[2]).to.match(/^\s+5\.0\s+4\.0\s+1\s+c\.test\.ts$/);
    expect(lines[3]).to.match(/^\s+36\.0\s+24\.5\s+all files$/);
    expect(slowestTable([{ ...timings[0], cpuMs: undefined }], 20)).to.match(/1\.0\s+-\s+3\s+a\.test\.ts/);
  });

  it('counts the CPU time of a child process the tests waited for (Linux: /proc/self/stat)', function () {
    this.timeout(180_000);
    const before = cpuMsWithChildren();
    expect(before, 'the kit runs its tests on Linux, where /proc/self/stat exists').to.be.a('number');
    // The child spins until it has used 100 ms of CPU (not of wall time: the machine may be busy).
    execFileSync(process.execPath, ['-e', 'while (process.cpuUsage().user < 100_000);']);
    expect(cpuMsWithChildren()! - before!).to.be.at.least(80);
  });
});
