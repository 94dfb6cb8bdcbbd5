/** A lab that builds on earlier labs' code (lab 7 on lab 6 and lab 2): where the grader finds that code, and that it runs it in the sandbox exactly as node's loader does. */
import { expect } from 'chai';
import path from 'node:path';
import { grade } from '../../../grader';
import { earlierLabs } from '../../../grader/earlier-labs';
import { runNamedTest } from '../../../suite';
import { suite } from '../../../lab7/test/suite';

/** Output nobody reads. */
const quiet = { write: (): boolean => true, isTTY: false };

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SUITE = path.join(ROOT, 'lab7', 'test', 'suite.ts');

describe('grader: code of earlier labs a lab builds on', function () {
  this.timeout(120_000);

  it("finds the student's lab6/ and lab2/ beside lab7/, and the reference's beside solutions/lab7/", () => {
    const student = earlierLabs(suite, path.join(ROOT, 'lab7'), SUITE);
    expect(student.map((e) => [e.labDir, e.codeDir])).to.deep.equal([
      [path.join(ROOT, 'lab6'), path.join(ROOT, 'lab6')],
      [path.join(ROOT, 'lab2'), path.join(ROOT, 'lab2')],
    ]);
    expect(student[0].files).to.deep.equal(['raft.ts', 'rsm.ts', 'server.ts', 'client.ts']);
    const reference = earlierLabs(suite, path.join(ROOT, 'solutions', 'lab7'), SUITE);
    expect(reference.map((e) => e.codeDir)).to.deep.equal([
      path.join(ROOT, 'solutions', 'lab6'),
      path.join(ROOT, 'solutions', 'lab2'),
    ]);
    expect(earlierLabs({}, path.join(ROOT, 'lab2'), SUITE)).to.deep.equal([]);
  });

  it("grades lab 7's reference, on the reference lab 6 and lab 2, with the trace hash of node's loader", async () => {
    const tests = ['TestJoinBasic5A', 'TestManyConcurrentClerkUnreliable5A'];
    const graded = await grade({
      lab: 'lab7',
      target: 'solution',
      seed: 3,
      tests,
      writeReports: false,
      color: false,
      out: quiet,
      err: quiet,
      env: {},
    });
    const impl = suite.load(path.join(ROOT, 'solutions', 'lab7'));
    for (const name of tests) {
      const test = suite.tests.find((t) => t.name === name);
      if (!test) throw new Error(`lab 7 has no ${name} any more`);
      const direct = await runNamedTest(test, impl, 3);
      const sandboxed = graded.labs[0].tests.find((t) => t.name === name);
      expect(direct.status, name).to.equal('passed');
      expect(sandboxed?.status, `${name}: ${sandboxed?.message ?? ''}`).to.equal('passed');
      expect(sandboxed?.traceHash, name).to.equal(direct.traceHash);
    }
  });
});
