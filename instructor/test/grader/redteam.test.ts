/** Red team: "student" code that tries to forge its grade in each known way scores what its honest code deserves. */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { grade } from '../../../grader';
import type { GradeResult, TestResult } from '../../../grader/types';
import { FIXTURES, fixtureOptions, tempDir } from './helpers';

const TEST_DIR = path.join(FIXTURES.hostile, 'lab9', 'test');
const CACHE_FORGERY = path.join(__dirname, '..', '..', '..', 'node_modules', '.cache', 'kvlabs-grader', 'forged.js');
/** What the hostile code's honest answers earn: TestRejection, TestOutOfMemory and TestFlaky. */
const HONEST_SCORE = 20;

/** Files the attacks would leave behind if they worked. */
function leftovers(): string[] {
  const marks = fs.existsSync(TEST_DIR) ? fs.readdirSync(TEST_DIR).filter((f) => f.startsWith('forged-')) : [];
  return [...marks, ...(fs.existsSync(CACHE_FORGERY) ? [CACHE_FORGERY] : [])];
}

function cleanUp(): void {
  for (const f of leftovers()) fs.rmSync(path.isAbsolute(f) ? f : path.join(TEST_DIR, f), { force: true });
  fs.rmSync(path.join(TEST_DIR, 'github-output-path.txt'), { force: true });
}

describe('grader: red team (student code trying to forge its grade)', function () {
  this.timeout(120_000);
  let result: GradeResult;
  let githubOutput: string;
  const test = (name: string): TestResult => {
    const t = result.labs[0].tests.find((x) => x.name === name);
    if (!t) throw new Error(`no result for ${name}`);
    return t;
  };

  before(async () => {
    cleanUp();
    githubOutput = path.join(tempDir(), 'github-output');
    fs.writeFileSync(githubOutput, '');
    fs.writeFileSync(path.join(TEST_DIR, 'github-output-path.txt'), githubOutput);
    const saved = process.env.GITHUB_OUTPUT;
    process.env.GITHUB_OUTPUT = githubOutput; // what a Classroom runner's grader process has
    try {
      result = await grade(
        fixtureOptions(FIXTURES.hostile, { seed: 11, classroom: true, env: { GITHUB_OUTPUT: githubOutput } }),
      );
    } finally {
      if (saved === undefined) delete process.env.GITHUB_OUTPUT;
      else process.env.GITHUB_OUTPUT = saved;
    }
    await new Promise((resolve) => setTimeout(resolve, 2500)); // a detached child would have left its mark by now
  });

  after(cleanUp);

  it('scores exactly what the honest answers earn', () => {
    expect(result.labs[0].score).to.equal(HONEST_SCORE);
    for (const name of ['TestRejection', 'TestOutOfMemory', 'TestFlaky'])
      expect(test(name).status, name).to.equal('passed');
  });

  it('refuses a result written by student code that may use fs (as lab 5’s may): a second result is tampering, and says so', () => {
    const t = test('TestBasic');
    expect(t.status).to.equal('failed');
    expect(t.message).to.match(/^Refused: while this test ran, the grader received a second result for test #1000/);
  });

  it('keeps the harness as the kit wrote it: neither replacing the RPC client’s method (through the module cache, the kit module, Promise.prototype.then or an iterator’s next) nor reaching into an object the harness handed over changes the verdict', () => {
    expect(test('TestWrongAnswer').status).to.equal('failed');
    expect(test('TestWrongAnswer').message).to.contain('Get returned 21 instead of 20');
  });

  it('lets student code write nowhere but its scratch folder (not the kit, not the compile cache)', () => {
    expect(test('TestHang').status).to.equal('failed');
    expect(leftovers()).to.deep.equal([]);
  });

  it('does not let student code read the reference solution', () => {
    expect(test('TestExit').status).to.equal('failed');
    expect(test('TestExit').message).to.contain('instead of 20');
  });

  it('does not let student code start processes or workers, so nothing outlives the test', () => {
    expect(test('TestTimerThrow').status).to.equal('failed');
    expect(leftovers()).to.deep.equal([]);
  });

  it('hides which test is running: code that answers right only when it sees the harness on its stack (by any route) fails', () => {
    expect(test('TestFinal').status).to.equal('failed');
    expect(test('TestFinal').message).to.contain('Get returned 21 instead of 20');
  });

  it('owes that to the sandbox: outside it, the same code does see the harness on its stack', () => {
    const { kitFramesSeen } = require(path.join(FIXTURES.hostile, 'lab9', 'counter.ts')) as {
      kitFramesSeen: () => string[];
    };
    expect(kitFramesSeen()).to.include(__filename);
  });

  it('writes the only Classroom result, the honest one', () => {
    expect(test('TestTickThrow').status).to.equal('failed');
    const lines = fs
      .readFileSync(githubOutput, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('result='));
    expect(lines).to.have.length(1);
    const payload = JSON.parse(Buffer.from(lines[0].slice('result='.length), 'base64').toString('utf8')) as {
      tests: Array<{ score: number }>;
    };
    expect(payload.tests.reduce((a, t) => a + t.score, 0)).to.equal(HONEST_SCORE);
  });

  it('owes file safety to node’s permission model where the code may use fs: without it (the bench’s comparison only) the attacks write outside the scratch folder, while the compartment still refuses every forged result', async () => {
    cleanUp();
    try {
      const open = await grade(fixtureOptions(FIXTURES.hostile, { seed: 11, permissions: false }));
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(leftovers(), 'without the permission flags the attacks leave files behind').not.to.deep.equal([]);
      expect(open.labs[0].score).to.equal(HONEST_SCORE);
    } finally {
      cleanUp();
    }
  });
});
