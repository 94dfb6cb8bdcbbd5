/** Each way student code can take a test down fails that test only, with its cause, and the run goes on. */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { grade } from '../../../grader';
import type { GradeResult, TestResult } from '../../../grader/types';
import { Collector, FIXTURES, STEADY_TESTS, findAll, fixtureOptions, parseXml } from './helpers';

const SEED = 11;

describe('grader: isolation of crashing student code', function () {
  this.timeout(60_000);
  let result: GradeResult;
  let out: Collector;
  let reportDir: string;
  const test = (name: string): TestResult => {
    const t = result.labs[0].tests.find((x) => x.name === name);
    if (!t) throw new Error(`no result for ${name}`);
    return t;
  };

  before(async () => {
    const options = fixtureOptions(FIXTURES.crashy, { tests: STEADY_TESTS, seed: SEED });
    out = options.out;
    reportDir = path.join(options.reportDir as string, 'lab9');
    result = await grade(options);
  });

  it('runs every selected test, in suite order, and passes the tests that work', () => {
    expect(result.labs[0].tests.map((t) => t.name)).to.deep.equal(STEADY_TESTS);
    expect(test('TestBasic').status).to.equal('passed');
    expect(test('TestFinal').status, 'the test after all the crashes still runs and passes').to.equal('passed');
  });

  it('reports a wrong answer as a failed check with the test’s own message', () => {
    const t = test('TestWrongAnswer');
    expect(t.status).to.equal('failed');
    expect(t.crash).to.equal('assertion');
    expect(t.message).to.contain('Get returned 21 instead of 20');
  });

  it('captures what the code under test prints and shows it with its failure', () => {
    expect(test('TestWrongAnswer').runs[0].output).to.equal('Get(wrong): adding one for luck, 20 -> 21\n');
    expect(out.text).to.match(/Your code printed:\n +Get\(wrong\): adding one for luck, 20 -> 21\n/);
    expect(test('TestBasic').runs[0].output).to.equal('');
  });

  it('stops a synchronous infinite loop at the real-time limit', () => {
    const t = test('TestHang');
    expect(t.crash).to.equal('timeout');
    expect(t.message)
      .to.match(/^Time limit/)
      .and.contain('after 1 s');
    expect(t.realMs).to.be.within(1000, 6000);
  });

  it('tells code that calls process.exit that its sandbox has no process, and where it asked', () => {
    const t = test('TestExit');
    expect(t.status).to.equal('failed');
    expect(t.message).to.contain('process is not available to your code').and.contain('counter.ts:12');
  });

  it('reports an exception thrown in a timer callback as uncaught', () => {
    const t = test('TestTimerThrow');
    expect(t.crash).to.equal('uncaught');
    expect(t.message)
      .to.match(/^Uncaught exception/)
      .and.contain('boom from a timer callback');
  });

  it('reports an exception thrown in a queued microtask as uncaught', () => {
    const t = test('TestTickThrow');
    expect(t.crash).to.equal('uncaught');
    expect(t.message)
      .to.match(/^Uncaught exception/)
      .and.contain('boom from a microtask');
  });

  it('reports an unhandled promise rejection', () => {
    const t = test('TestRejection');
    expect(t.crash).to.equal('unhandled-rejection');
    expect(t.message)
      .to.match(/^Unhandled promise rejection/)
      .and.contain('a promise nobody handles');
  });

  it('reports running out of memory, naming the limit', () => {
    const t = test('TestOutOfMemory');
    expect(t.crash).to.equal('out-of-memory');
    expect(t.message)
      .to.match(/^Out of memory/)
      .and.contain('96 MB');
  });

  it('scores by the rubric and exits non-zero', () => {
    expect(result.labs[0].score).to.equal(20);
    expect(result.labs[0].maxScore).to.equal(60);
    expect(test('TestBasic').points).to.equal(10);
    expect(test('TestHang').points).to.equal(0);
    expect(test('TestHang').maxPoints).to.equal(5);
    expect(result.exitCode).to.equal(1);
  });

  it('prints one line per test, each failure’s reason, seed and replay command, and the score', () => {
    const text = out.text;
    expect(text).to.match(/TestBasic \.+ passed +\S+ \(virtual \S+\) +#RPCs 21 +#Ops 21 +10\/10/);
    expect(text).to.match(/TestHang \.+ FAILED .* 0\/5 +\[real-time limit\]/);
    expect(text).to.contain(`seed=${SEED}  replay: npm run grade lab9 -- --test TestExit --seed ${SEED}`);
    expect(text).to.contain('Score: 20/60');
    expect(text).to.not.contain('\x1b[', 'no colours when not on a terminal');
    const order = STEADY_TESTS.map((n) => text.indexOf(`${n} .`));
    expect(order).to.deep.equal([...order].sort((a, b) => a - b));
  });

  it('writes results.json with every test and its figures', () => {
    const doc = JSON.parse(fs.readFileSync(path.join(reportDir, 'results.json'), 'utf8')) as {
      lab: string;
      target: string;
      score: number;
      tests: Array<Record<string, unknown>>;
    };
    expect(doc.lab).to.equal('lab9');
    expect(doc.target).to.equal('student');
    expect(doc.score).to.equal(20);
    expect(doc.tests).to.have.length(STEADY_TESTS.length);
    const hang = doc.tests.find((t) => t.name === 'TestHang') ?? {};
    for (const key of [
      'name',
      'status',
      'points',
      'maxPoints',
      'seed',
      'realMs',
      'virtualMs',
      'rpcs',
      'ops',
      'traceHash',
      'message',
      'crash',
    ])
      expect(hang).to.have.property(key);
    expect(hang.crash).to.equal('timeout');
    expect(hang.replay).to.equal(`npm run grade lab9 -- --test TestHang --seed ${SEED}`);
  });

  it('writes junit.xml that parses, with one testcase per test and one failure per failed test', () => {
    const xml = parseXml(fs.readFileSync(path.join(reportDir, 'junit.xml'), 'utf8'));
    const cases = findAll(xml, 'testcase');
    expect(cases.map((c) => c.attributes.name)).to.deep.equal(STEADY_TESTS);
    const failures = findAll(xml, 'failure');
    expect(failures).to.have.length(7);
    const hang = cases.find((c) => c.attributes.name === 'TestHang');
    expect(hang?.children[0].attributes.message).to.contain('Time limit');
    expect(findAll(xml, 'testsuite')[0].attributes.failures).to.equal('7');
  });

  it('writes a classroom payload that decodes to the score', () => {
    const b64 = fs.readFileSync(path.join(reportDir, 'classroom.b64'), 'utf8').trim();
    const payload = JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as {
      version: number;
      status: string;
      max_score: number;
      tests: Array<{ name: string; score: number; status: string }>;
    };
    expect(payload.version).to.equal(1);
    expect(payload.status).to.equal('fail');
    expect(payload.max_score).to.equal(60);
    expect(payload.tests.reduce((a, t) => a + t.score, 0)).to.equal(20);
    expect(payload.tests.find((t) => t.name === 'TestBasic')?.status).to.equal('pass');
    expect(JSON.parse(fs.readFileSync(path.join(reportDir, 'classroom.json'), 'utf8'))).to.deep.equal(payload);
  });

  it('writes index.html and summary.md with the failures, and the failing history next to them', () => {
    const html = fs.readFileSync(path.join(reportDir, 'index.html'), 'utf8');
    const history = `history-TestWrongAnswer-${SEED}.html`;
    expect(html).to.contain(`href="${history}"`);
    expect(fs.readFileSync(path.join(reportDir, history), 'utf8')).to.contain('Counter wrong');
    expect(html).to.contain('Score: 20/60');
    const md = fs.readFileSync(path.join(reportDir, 'summary.md'), 'utf8');
    expect(md).to.contain('| TestHang | ❌ FAILED (real-time limit) | 0/5 |');
    expect(md).to.contain(`\`npm run grade lab9 -- --test TestOutOfMemory --seed ${SEED}\``);
  });

  it('fails every test, saying why, when the student code cannot even be loaded', async () => {
    const options = fixtureOptions(FIXTURES.unloadable, {
      tests: ['TestBasic', 'TestFinal'],
      seed: 1,
      writeReports: false,
    });
    const r = await grade(options);
    expect(r.labs[0].tests.map((t) => [t.name, t.status, t.runs[0].phase])).to.deep.equal([
      ['TestBasic', 'failed', 'load'],
      ['TestFinal', 'failed', 'load'],
    ]);
    expect(r.labs[0].tests[1].message).to.contain('could not be loaded').and.contain('config.port is missing');
    expect(options.out.text).to.match(/TestFinal \.+ FAILED .*\[could not load\]/);
  });

  it('scores the reference solution 100% and exits 0', async () => {
    const options = fixtureOptions(FIXTURES.crashy, { target: 'solution', seed: SEED, writeReports: false });
    const r = await grade(options);
    expect(r.labs[0].tests).to.have.length(10);
    expect(r.labs[0].tests.filter((t) => t.status !== 'passed').map((t) => `${t.name}: ${t.message}`)).to.deep.equal(
      [],
    );
    expect(r.score).to.equal(70);
    expect(r.exitCode).to.equal(0);
    expect(options.out.text).to.contain('Grading the reference solution');
    expect(options.out.text).to.not.contain('replay');
  });
});

describe('grader: the whole run’s time budget (--budget)', function () {
  this.timeout(60_000);

  it('does not start tests once earlier hangs used up the budget: they score 0 and the results are still written', async () => {
    // Four 1 s hangs one after another (one test process), each stopped 0.3 s after its limit, cannot fit in 5 s
    // with the 0.3 s kept back for the last stop: the budget runs out among them whatever the machine's speed, and
    // TestFinal never starts.
    const options = fixtureOptions(FIXTURES.crashy, {
      tests: ['TestHang', 'TestFinal'],
      seed: SEED,
      runs: 4,
      budgetSec: 5,
      jobs: 1,
    });
    const result = await grade(options);
    const [hang, final] = result.labs[0].tests;
    expect(hang.runs[0].message).to.match(/^Time limit/);
    for (const run of hang.runs.slice(1))
      expect(run.message).to.match(
        /^(Time limit|Not run: the whole grading run may take 5 s of real time \(--budget\))/,
      );
    expect(final.runs[0].crash).to.equal('budget');
    expect(final.runs[0].message).to.match(/^Not run: the whole grading run may take 5 s of real time \(--budget\)/);
    expect(final.points, 'a test that could not run within the budget scores nothing').to.equal(0);
    expect(result.score).to.equal(0);
    expect(fs.existsSync(path.join(options.reportDir as string, 'lab9', 'results.json'))).to.equal(true);
    expect(options.out.text).to.contain('[time budget used up]');
  });
});
