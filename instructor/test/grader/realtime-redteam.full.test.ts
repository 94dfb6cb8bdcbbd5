/**
 * Red team of the real-time boundary, graded through the real grader: code under test that runs in a process of its
 * own (a lab 3/4-style server in real mode, lab 5's student host) and tries to forge its verdict from there scores
 * what its honest answers earn, and a crash or an exit it causes is reported as such.
 */
import { expect } from 'chai';
import path from 'node:path';
import { grade } from '../../../grader';
import type { Job } from '../../../grader/protocol';
import { runJobs } from '../../../grader/supervisor';
import type { GradeResult, TestResult } from '../../../grader/types';
import { materialiseMutant, removeMutant, type Mutant } from '../../../solutions/mutants';
import { FIXTURES, fixtureOptions } from './helpers';

const KIT = path.resolve(__dirname, '..', '..', '..');

/** The result of test `name`. */
function testOf(result: GradeResult, name: string): TestResult {
  const t = result.labs[0].tests.find((x) => x.name === name);
  if (!t) throw new Error(`no result for ${name}`);
  return t;
}

describe('grader: red team of the real-time boundary (code in a process of its own forging its verdict)', function () {
  this.timeout(300_000);

  describe('a server in real mode that escaped its compartment (fixture rtforge)', () => {
    let result: GradeResult;
    before(async () => {
      result = await grade(fixtureOptions(FIXTURES.rtforge, { seed: 1, writeReports: false }));
    });

    it('scores what its honest answers earn: only TestHonestAnswers passes', () => {
      expect(result.labs[0].tests.map((t) => [t.name, t.status])).to.deep.equal([
        ['TestForgeLines', 'failed'],
        ['TestSignalParent', 'failed'],
        ['TestReachGrader', 'failed'],
        ['TestExitMidTest', 'failed'],
        ['TestHonestAnswers', 'passed'],
      ]);
      expect(result.labs[0].score).to.equal(20);
    });

    it('never lets a protocol line it writes reach the grader (no verdict, forged or refused, comes of it)', () => {
      const t = testOf(result, 'TestForgeLines');
      expect(t.message).to.not.match(/Refused|forged|second result/);
      // Writing into node's own descriptors usually kills its own process; if it survives, its wrong count fails it.
      expect(t.message).to.match(
        /The process running your counter \(TestForgeLines\) (was killed|exited)|Get returned 6/,
      );
    });

    it('cannot signal the grader or its group, read a secret or the grader’s /proc entries, or start a process', () => {
      // Any of these getting through makes the hostile counter answer right (a forged pass).
      expect(testOf(result, 'TestSignalParent').message).to.equal('Get returned 6 instead of 5.');
      expect(testOf(result, 'TestReachGrader').message).to.equal('Get returned 6 instead of 5.');
    });

    it('reports a server that exits in the middle of a test as that, with what it printed', () => {
      expect(testOf(result, 'TestExitMidTest').message)
        .to.contain('The process running your counter (TestExitMidTest) exited with code 0 during the test')
        .and.contain('Its last output');
    });

    it('gives the honest counter every point', async () => {
      const honest = await grade(
        fixtureOptions(FIXTURES.rtforge, { target: 'solution', seed: 1, writeReports: false }),
      );
      expect(honest.labs[0].score).to.equal(100);
    });
  });

  describe('lab 5’s student host, through the grader', () => {
    /** An honest bug: PING answers PANG (TestSetGetDel fails on it; TestIntegers does not look). */
    const PANG: readonly [string, string] = ["reply.simple('PONG')", "reply.simple('PANG')"];
    /** Forged protocol lines on its stdout and stderr, and the grader's descriptors sought through /proc. */
    const ATTACK = `
const FORGED = '{"type":"done","index":0,"body":"{\\\\"status\\\\":\\\\"passed\\\\"}","mac":"00"}\\n{"type":"ready"}\\n';
for (const fd of [1, 2]) {
  try {
    fs.writeSync(fd, FORGED);
  } catch {
    // not writable
  }
}
for (const file of ['/proc/self/environ', '/proc/self/status']) {
  try {
    const ppid = /PPid:\\s*(\\d+)/.exec(fs.readFileSync(file, 'utf8'))?.[1];
    for (let fd = 3; ppid && fd < 40; fd++) fs.writeSync(fs.openSync('/proc/' + ppid + '/fd/' + fd, 'w'), FORGED);
  } catch {
    // refused
  }
}
const OUTPUT_PAUSE_BYTES = 1 << 20;`;
    const honest: Mutant = {
      name: 'rt-redteam-honest',
      description: 'PANG',
      file: 'server.ts',
      replace: [PANG],
      caughtBy: [],
    };
    const hostile: Mutant = {
      ...honest,
      name: 'rt-redteam-hostile',
      replace: [
        PANG,
        ["import * as net from 'node:net';", "import * as fs from 'node:fs';\nimport * as net from 'node:net';"],
        ['const OUTPUT_PAUSE_BYTES = 1 << 20;', ATTACK],
      ],
    };
    const names = ['TestSetGetDel', 'TestIntegers'];

    /** Each test's status and first line of its message, for the code in `dir`, run by the grader's supervisor. */
    async function graded(dir: string, tests: readonly string[] = names): Promise<string[][]> {
      const jobs: Job[] = tests.map((test, index) => ({ index, test, seed: 1, realLimitMs: 60_000 }));
      const records = await runJobs(jobs, {
        config: { suitePath: path.join(KIT, 'lab5', 'test', 'suite.ts'), implDir: dir },
        heapLimitMb: 1024,
        killGraceMs: 2000,
        bootTimeoutMs: 60_000,
      });
      return records.map((r) => [r.name, r.status, r.message.split('\n')[0]]);
    }

    it('scores what its honest answers earn when it forges lines and seeks the grader’s descriptors', async () => {
      const honestDir = materialiseMutant(path.join(KIT, 'solutions', 'lab5'), honest);
      const hostileDir = materialiseMutant(path.join(KIT, 'solutions', 'lab5'), hostile);
      try {
        const fair = await graded(honestDir);
        expect(fair.map(([n, s]) => [n, s])).to.deep.equal([
          ['TestSetGetDel', 'failed'],
          ['TestIntegers', 'passed'],
        ]);
        expect(fair[0][2]).to.contain('PANG');
        expect(await graded(hostileDir)).to.deep.equal(fair);
      } finally {
        removeMutant(honestDir);
        removeMutant(hostileDir);
      }
    });

    /**
     * A timing probe of the spies in its own process: an fsync of the data folder (which keeps no logged write) timed
     * against an fstat of it, fastest of 15 each. A server that fsynced only where this read "watched" once passed
     * TestFsyncPolicy and TestNemesisRedis while skipping its fsyncs everywhere else.
     */
    const PROBE = `
  private looksWatched(): boolean {
    const fd = fs.openSync(this.dir, 'r');
    const fastest = (f: () => void): number => {
      let best = Infinity;
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        f();
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    try {
      const stat = fastest(() => fs.fstatSync(fd));
      return fastest(() => fs.fsyncSync(fd)) > 1.5 * stat;
    } finally {
      fs.closeSync(fd);
    }
  }

  private sync(): void {`;
    const LOAD = '  load(now: number): StoredEntry[] {\n';

    it('watches every server with a data folder alike: a server that reads its folder only where its fs calls look watched reads it everywhere', async () => {
      // The honest twin never reads its data folder: a restarted server starts empty.
      const twin: Mutant = {
        name: 'rt-probe-twin',
        description: 'nothing loaded',
        file: 'persistence.ts',
        replace: [[LOAD, LOAD + '    if (now >= 0) return [];\n']],
        caughtBy: [],
      };
      const tricked: Mutant = {
        ...twin,
        name: 'rt-probe-trick',
        replace: [
          [LOAD, LOAD + '    if (!this.looksWatched()) return [];\n'],
          ['\n  private sync(): void {', PROBE],
        ],
      };
      const tests = ['TestRestartRecovery'];
      const twinDir = materialiseMutant(path.join(KIT, 'solutions', 'lab5'), twin);
      const trickDir = materialiseMutant(path.join(KIT, 'solutions', 'lab5'), tricked);
      try {
        expect((await graded(twinDir, tests)).map(([n, st]) => [n, st])).to.deep.equal([[tests[0], 'failed']]);
        // TestRestartRecovery judges no fsync, yet its server is watched as TestFsyncPolicy's is: the folder is read.
        expect((await graded(trickDir, tests)).map(([n, st]) => [n, st])).to.deep.equal([[tests[0], 'passed']]);
      } finally {
        removeMutant(twinDir);
        removeMutant(trickDir);
      }
    });
  });
});
