/** JUnit failures point at the student's file and line, as dorny/test-reporter and action-junit-report read them. */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { grade } from '../../../grader';
import { junitXml } from '../../../grader/reports/junit';
import { failureLocation } from '../../../grader/reports/location';
import { scoreTest, totals } from '../../../grader/scoring';
import type { LabResult, RunRecord } from '../../../grader/types';
import { dornyJavaAnnotations, dornyJestAnnotations, filesUnder, mikepenzAnnotations } from './annotators';
import { Collector, parseXml, tempDir } from './helpers';

const KIT = path.join(__dirname, '..', '..', '..');
/** The files a checkout of the kit tracks that matter here: the labs' folders and the reference solutions. */
const TRACKED = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5', 'solutions'].flatMap((d) => filesUnder(KIT, d));
const REPORT = 'reports/lab2/junit.xml';

/** Each annotator's place for each failing test of `xml`. */
function annotate(xml: string) {
  const doc = parseXml(xml);
  return {
    mikepenz: mikepenzAnnotations(doc),
    dornyJava: dornyJavaAnnotations(doc, TRACKED, REPORT),
    dornyJest: dornyJestAnnotations(doc, TRACKED, REPORT),
  };
}

/** A failed run with `message`. */
function failedRun(name: string, message: string): RunRecord {
  return {
    name,
    status: 'failed',
    seed: 7,
    realMs: 5,
    virtualMs: 10,
    rpcs: 1,
    ops: 1,
    traceHash: 'h',
    message,
    crash: 'assertion',
    log: [],
    output: '',
  };
}

/** A lab 2 result whose tests failed with these messages. */
function lab2With(messages: Record<string, string>, target: LabResult['target'] = 'student'): LabResult {
  const tests = Object.entries(messages).map(([name, m]) => scoreTest(name, '', 5, [failedRun(name, m)]));
  const t = totals(tests);
  return {
    lab: 'lab2',
    title: 'Lab 2',
    target,
    score: t.score,
    maxScore: t.maxScore,
    passed: t.passed,
    runsPerTest: 1,
    tests,
    typeErrors: [],
    implFiles: ['server.ts', 'client.ts', 'lock.ts'],
  };
}

describe('grader: JUnit failures point at the student’s line', function () {
  this.timeout(120_000);

  it('a failing skeleton’s junit.xml (lab 2, graded for real) makes both annotators mark the line of the student’s file that threw', async () => {
    const reportDir = tempDir();
    const result = await grade({
      lab: 'lab2',
      tests: ['TestReliablePut', 'TestLockLostReply'],
      reportDir,
      color: false,
      env: {},
      out: new Collector(),
      err: new Collector(),
    });
    expect(result.labs[0].tests.map((t) => t.status)).to.deep.equal(['failed', 'failed']);
    const xml = fs.readFileSync(path.join(reportDir, 'lab2', 'junit.xml'), 'utf8');
    const all = annotate(xml);
    for (const [annotator, places] of Object.entries(all)) {
      expect(
        places.map((p) => [p.test, p.path]),
        annotator,
      ).to.deep.equal([
        ['TestReliablePut', 'lab2/client.ts'],
        ['TestLockLostReply', 'lab2/lock.ts'],
      ]);
      for (const p of places) {
        expect(p.line, `${annotator}: ${p.test}`).to.be.above(0);
        const source = fs.readFileSync(path.join(KIT, p.path), 'utf8').split('\n')[p.line - 1];
        expect(source, `${annotator}: ${p.path}:${p.line} is the line that throws the TODO`).to.match(/throw/);
      }
    }
  });

  it('without a frame of the student’s code: the file the likely causes name, else the lab’s first file; frames of tests and packages are skipped', () => {
    const lab = lab2With({
      TestStack:
        'Error: boom\n    at helper (C:\\work\\kvlabs\\lab2\\store.ts:12:3)\n    at KVServer.put (/x/lab2/server.ts:40:5)',
      TestSkips:
        'TypeError: x\n    at check (/x/lab2/test/suite.ts:99:1)\n    at f (/x/node_modules/p/i.js:1:1)\n    at async Clerk.get (/x/lab2/client.ts:31:9)',
      TestCauses: 'Expected the lock free. Likely causes in lab2/lock.ts: a release that forgets its put.',
      TestCausesBare: 'Expected a bounded table. Likely causes: a table of replies (at the top of server.ts).',
      TestNothing: 'Expected 1, got 2.',
    });
    expect(lab.tests.map((t) => failureLocation(lab, t))).to.deep.equal([
      { file: 'lab2/store.ts', line: 12, column: 3, source: 'stack', function: 'helper' },
      { file: 'lab2/client.ts', line: 31, column: 9, source: 'stack', function: 'Clerk.get' },
      { file: 'lab2/lock.ts', line: 1, column: 1, source: 'likely-causes' },
      { file: 'lab2/server.ts', line: 1, column: 1, source: 'likely-causes' },
      { file: 'lab2/server.ts', line: 1, column: 1, source: 'first-file' },
    ]);
    const xml = junitXml([lab]);
    const expected = [
      ['TestStack', 'lab2/store.ts', 12],
      ['TestSkips', 'lab2/client.ts', 31],
      ['TestCauses', 'lab2/lock.ts', 1],
      ['TestCausesBare', 'lab2/server.ts', 1],
      ['TestNothing', 'lab2/server.ts', 1],
    ];
    // lab2/store.ts stands for a helper file a student added: tracked in their repository.
    const tracked = [...TRACKED, 'lab2/store.ts'];
    const doc = parseXml(xml);
    for (const places of [
      mikepenzAnnotations(doc),
      dornyJavaAnnotations(doc, tracked, REPORT),
      dornyJestAnnotations(doc, tracked, REPORT),
    ])
      expect(places.map((p) => [p.test, p.path, p.line])).to.deep.equal(expected);
    expect(xml).to.contain('Where to look: lab2/lock.ts line 1 (the file the likely causes above name).');
  });

  it('the reference solution’s failures point into solutions/, the same for both annotators', () => {
    const lab = lab2With({ TestA: 'Error: no\n    at Clerk.put (/k/solutions/lab2/client.ts:8:2)' }, 'solution');
    const places = annotate(junitXml([lab]));
    for (const p of Object.values(places))
      expect(p.map((a) => [a.path, a.line])).to.deep.equal([['solutions/lab2/client.ts', 8]]);
  });
});
