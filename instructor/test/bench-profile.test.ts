/** `npm run bench -- --profile`: the summary of CPU profiles, and a profiled grade whose test process writes its profile. */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { grade } from '../../grader';
import { groupOf, readProfiles, summarize, type CpuProfile } from '../bench/cpu-profile';
import { profiled, profileOptions } from '../bench/profile';

const ROOT = path.join(__dirname, '..', '..');
const file = (rel: string): string => `file://${path.join(ROOT, rel)}`;

/** A profile of four functions, each sample 1 ms apart (µs). */
function profile(): CpuProfile {
  const frame = (id: number, functionName: string, url: string) => ({
    id,
    callFrame: { functionName, url, lineNumber: 9 },
  });
  return {
    nodes: [
      frame(1, '(root)', ''),
      frame(2, '(idle)', ''),
      frame(3, 'send', file('labrpc/network.ts')),
      frame(4, 'step', file('checker/models/kv.ts')),
      frame(5, 'Get', file('solutions/lab1/server.ts')),
    ],
    startTime: 0,
    endTime: 8000,
    samples: [2, 3, 3, 4, 5, 5, 5, 2],
    timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  };
}

describe('bench: where the time goes (--profile)', function () {
  this.timeout(120_000);

  it('puts each function in its module group by its file, and idle time apart', () => {
    expect(groupOf(file('labrpc/network.ts'), 'send')).to.equal('labrpc');
    expect(groupOf(file('world/world.ts'), 'run')).to.equal('world');
    expect(groupOf(file('grader/crossing.ts'), 'copy')).to.equal('compartment/SES');
    expect(groupOf(file('node_modules/ses/dist/ses.cjs'), 'harden')).to.equal('compartment/SES');
    expect(groupOf(file('grader/supervisor.ts'), 'run')).to.equal('grader');
    expect(groupOf(file('lab5/test/harness.ts'), 'received')).to.equal('lab tests and harness');
    expect(groupOf(file('solutions/lab1/server.ts'), 'Get')).to.equal('student code (the reference)');
    expect(groupOf('node:internal/async_hooks', 'pushAsyncContext')).to.equal('node internals');
    expect(groupOf('', '(idle)')).to.equal('idle/waiting');
    expect(groupOf('', '(garbage collector)')).to.equal('garbage collection');
  });

  it('adds up self time by process kind, module group and function (each sample holds the time to the next)', () => {
    const s = summarize([{ kind: 'test-process', profile: profile() }], ROOT);
    expect(s.kinds).to.deep.equal([{ kind: 'test-process', processes: 1, wallMs: 8, busyMs: 6 }]);
    expect(s.groups).to.deep.equal([
      { group: 'student code (the reference)', ms: 3 },
      { group: 'labrpc', ms: 2 },
      { group: 'idle/waiting', ms: 1 },
      { group: 'checker', ms: 1 },
    ]);
    const benchOnly = summarize([{ kind: 'bench', profile: profile() }], ROOT, ['bench']);
    expect(benchOnly.kinds, 'a kind counted in the kinds only').to.have.length(1);
    expect(benchOnly.groups, 'and in no module group').to.deep.equal([]);
    expect(s.functions[0]).to.deep.equal({
      fn: 'Get solutions/lab1/server.ts:10',
      group: 'student code (the reference)',
      ms: 3,
    });
  });

  it('profiles a grade: this process, and the test process it starts, each write a profile', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-profile-test-'));
    try {
      expect(profileOptions(), 'nothing is added outside a profile').to.deep.equal({});
      const { result, tables } = await profiled(dir, () => {
        expect(profileOptions()).to.deep.equal({ cpuProfileDir: dir, permissions: false });
        return grade({
          lab: 'lab2',
          target: 'solution',
          tests: ['TestReliablePut'],
          seed: 1,
          writeReports: false,
          out: { write: () => true },
          err: { write: () => true },
          env: {},
          ...profileOptions(),
        });
      });
      expect(result.passed).to.equal(true);
      const kinds = readProfiles(dir).map((p) => p.kind);
      expect(kinds).to.include.members(['bench', 'test-process']);
      expect(tables).to.match(/\| test-process \| 1 \|/);
      expect(fs.existsSync(path.join(dir, 'summary.md'))).to.equal(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
