/** The grader's small parts: rubric, seeds, scoring, formatting and the report writers, without running tests. */
import { expect } from 'chai';
import { wantsColor } from '../../../suite/colors';
import { ConsoleReporter, HEARTBEAT_MS } from '../../../grader/console';
import sinon from 'sinon';
import { GraderUsageError } from '../../../grader/errors';
import { replayCommand, secs } from '../../../grader/format';
import {
  classroomOutputs,
  classroomResult,
  encodeClassroom,
  RUNNER_WIDTH,
  runnerName,
} from '../../../grader/reports/classroom';
import { listLabs, requireSuite } from '../../../grader/labs';
import { htmlReport } from '../../../grader/reports/html';
import { junitXml } from '../../../grader/reports/junit';
import { markdownSummary, WRAP_WIDTH } from '../../../grader/reports/markdown';
import { rubricOf, timeLimitMs } from '../../../grader/rubric';
import type { LabSuite } from '../../../suite';
import { scoreTest, totals } from '../../../grader/scoring';
import { deriveSeeds, parseSeed, planSeeds } from '../../../grader/seeds';
import type { LabResult, RunRecord } from '../../../grader/types';
import { Collector, findAll, parseXml } from './helpers';
import { runPointsStep } from './points-step';
import path from 'node:path';

function run(name: string, seed: number, status: 'passed' | 'failed', extra: Partial<RunRecord> = {}): RunRecord {
  return {
    name,
    status,
    seed,
    realMs: 100,
    virtualMs: 2000,
    rpcs: 10,
    ops: 5,
    traceHash: `hash${seed}`,
    message: status === 'failed' ? `it broke with ${seed}` : '',
    log: [],
    output: '',
    ...extra,
  };
}

/** A lab result with awkward text in it: markup, pipes, backticks, terminal colours and control characters. */
function awkwardLab(): LabResult {
  const evil = 'got <script>alert("x")</script> | `pipe` ``` fence\x1b[31m red\x1b[0m \x07bell & more';
  const tests = [
    scoreTest('TestGood', 'works', 10, [run('TestGood', 1, 'passed')]),
    scoreTest('TestEvil', 'has <b>markup</b>', 5, [
      run('TestEvil', 1, 'failed', {
        message: evil,
        crash: 'assertion',
        output: 'printed \x1b[1mbold\x1b[0m\n',
        log: ['a <log> line'],
        historyHtml: '<html>h</html>',
      }),
    ]),
    scoreTest('TestRuns', 'flaky', 5, [
      run('TestRuns', 1, 'passed'),
      run('TestRuns', 2, 'failed', { crash: 'timeout' }),
      run('TestRuns', 3, 'failed'),
    ]),
  ];
  const t = totals(tests);
  return {
    lab: 'lab9',
    title: 'A <fixture> lab',
    target: 'student',
    score: t.score,
    maxScore: t.maxScore,
    passed: t.passed,
    runsPerTest: 3,
    seedBase: 1,
    tests,
    typeErrors: [
      { file: 'lab9/server.ts', line: 3, column: 7, code: 2322, message: 'Type <string> is not assignable' },
    ],
  };
}

describe('grader: parts', () => {
  describe('rubric', () => {
    /** A one-test-per-name suite with the given scorings. */
    const suiteOf = (tests: Array<Record<string, unknown>>, defaultTimeoutSec?: number): LabSuite<unknown> =>
      ({
        lab: 'lab9',
        title: 't',
        implFiles: [],
        load: () => undefined,
        defaultTimeoutSec,
        tests: tests.map((t) => ({ description: '', run: async () => undefined, ...t })),
      }) as unknown as LabSuite<unknown>;

    it('reads points, parts and limits off the suite, and explains a wrong scoring naming the file and the test', () => {
      const r = rubricOf(
        suiteOf(
          [
            { name: 'A', points: 10, part: 1 },
            { name: 'B', points: 5, part: 2, timeoutSec: 2 },
          ],
          30,
        ),
        's.ts',
      );
      expect(r.tests).to.deep.equal({
        A: { points: 10, part: 1, timeoutSec: undefined },
        B: { points: 5, part: 2, timeoutSec: 2 },
      });
      expect(timeLimitMs(r, 'A')).to.equal(30_000);
      expect(timeLimitMs(r, 'B')).to.equal(2000);
      expect(timeLimitMs({ ...r, defaultTimeoutSec: undefined }, 'A', 120)).to.equal(120_000);
      const wrong = (tests: Array<Record<string, unknown>>, re: RegExp) =>
        expect(() => rubricOf(suiteOf(tests), 's.ts')).to.throw(GraderUsageError, re);
      wrong([{ name: 'A', points: -1, part: 1 }], /s\.ts gives test "A" no valid points/);
      wrong([{ name: 'A', part: 1 }], /"A" no valid points/);
      wrong([{ name: 'A', points: 1 }], /"A" no valid part/);
      wrong([{ name: 'A', points: 1, part: 1.5 }], /"A" no valid part/);
      wrong([{ name: 'A', points: 1, part: 1, timeoutSec: 0 }], /"A" a timeoutSec/);
      wrong(
        [
          { name: 'A', points: 1, part: 1 },
          { name: 'A', points: 1, part: 1 },
        ],
        /more than one test named A/,
      );
      expect(() => rubricOf(suiteOf([], -1), 's.ts')).to.throw(GraderUsageError, /defaultTimeoutSec/);
    });
  });

  describe('seeds', () => {
    it('derives distinct seeds deterministically, the base first', () => {
      const a = deriveSeeds(123, 20);
      expect(a).to.deep.equal(deriveSeeds(123, 20));
      expect(a[0]).to.equal(123);
      expect(new Set(a).size).to.equal(20);
      expect(deriveSeeds(124, 5)).to.not.deep.equal(a.slice(0, 5));
    });

    it('plans one fixed seed, fresh seeds, or derived seeds', () => {
      expect(planSeeds(5, 1).seedsFor(3)).to.deep.equal([5]);
      const fresh = planSeeds(undefined, 1);
      expect(fresh.seedsFor(0)).to.deep.equal(fresh.seedsFor(0));
      expect(fresh.base).to.equal(undefined);
      const many = planSeeds(undefined, 4);
      expect(many.base).to.be.a('number');
      expect(many.seedsFor(0)).to.deep.equal(deriveSeeds(many.base as number, 4));
      expect(() => planSeeds(undefined, 0)).to.throw(GraderUsageError);
    });

    it('parses seeds and explains bad ones', () => {
      expect(parseSeed(' 42 ')).to.equal(42);
      for (const bad of ['', '-1', '4.2', 'abc', '1e3', '9007199254740993'])
        expect(() => parseSeed(bad), bad).to.throw(GraderUsageError, /seed/);
    });
  });

  describe('scoring', () => {
    it('awards points only when every run passes, and sums the figures', () => {
      const t = scoreTest('T', 'd', 7, [run('T', 1, 'passed'), run('T', 2, 'failed'), run('T', 3, 'failed')]);
      expect(t.status).to.equal('failed');
      expect(t.points).to.equal(0);
      expect(t.seed).to.equal(2);
      expect(t.failingSeeds).to.deep.equal([2, 3]);
      expect(t.message).to.equal('it broke with 2');
      expect(t.rpcs).to.equal(30);
      const ok = scoreTest('T', 'd', 7, [run('T', 1, 'passed')]);
      expect(ok.points).to.equal(7);
      expect(totals([t, ok])).to.deep.equal({ score: 7, maxScore: 14, passed: false });
    });
  });

  describe('formatting and console', () => {
    it('formats durations and replay commands', () => {
      expect(secs(7.4)).to.equal('7ms');
      expect(secs(1234)).to.equal('1.2s');
      expect(secs(125_000)).to.equal('125s');
      expect(replayCommand('lab2', 'TestX', 5, 'student')).to.equal('npm run grade lab2 -- --test TestX --seed 5');
      expect(replayCommand('lab2', 'TestX', 5, 'solution')).to.equal(
        'npm run grade lab2 -- --test TestX --seed 5 --solution',
      );
    });

    it('colours only terminals, and never with NO_COLOR', () => {
      expect(wantsColor(new Collector(true), {})).to.equal(true);
      expect(wantsColor(new Collector(false), {})).to.equal(false);
      expect(wantsColor(new Collector(true), { NO_COLOR: '1' })).to.equal(false);
      expect(wantsColor(new Collector(false), { FORCE_COLOR: '1' })).to.equal(true);
    });

    it('shows progress on a terminal and clears it before result lines', () => {
      const out = new Collector(true);
      const c = new ConsoleReporter(out, out, false);
      c.progress(3, 10, 'TestX');
      expect(out.text).to.contain('[3/10] TestX …');
      c.testDone(scoreTest('TestX', 'd', 1, [run('TestX', 1, 'passed')]), 'lab9', 'student', 20);
      expect(out.text).to.match(/\r\x1b\[KTestX \.+ passed/);
    });

    it('in a log, says every 10 s which tests are still running, and stops at the end of the lab', () => {
      const clock = sinon.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
      try {
        const out = new Collector(false);
        const c = new ConsoleReporter(out, undefined, false);
        c.labStart({ lab: 'lab9', title: 'T', target: 'student', dir: 'lab9', tests: 3, runs: 1 }, 20);
        c.progress(1, 3, 'TestFast');
        c.progress(2, 3, 'TestSlow');
        c.runEnded('TestFast');
        c.testDone(scoreTest('TestFast', 'd', 1, [run('TestFast', 1, 'passed')]), 'lab9', 'student', 20);
        const before = out.text;
        clock.tick(HEARTBEAT_MS - 1000);
        expect(out.text, 'nothing while a line was printed less than 10 s ago').to.equal(before);
        clock.tick(1000);
        expect(out.text.slice(before.length)).to.equal('    … still running TestSlow (10 s); 1 of 3 tests reported\n');
        clock.tick(HEARTBEAT_MS);
        expect(out.text).to.contain('still running TestSlow (20 s)');
        c.labEnd({ ...awkwardLab(), tests: [] });
        const atEnd = out.text;
        clock.tick(5 * HEARTBEAT_MS);
        expect(out.text, 'silent once the lab ended').to.equal(atEnd);
      } finally {
        clock.restore();
      }
    });

    it('shows a failure message’s control characters as symbols, so the code cannot erase or overwrite a line of the grader’s', () => {
      const out = new Collector();
      const forged = 'boom\x1b[2K\r\x1b[1A\x1b[2KTestEvil ... passed 5/5\x1b]0;title\x07\r\x1b[8m';
      new ConsoleReporter(out, undefined, false).testDone(
        scoreTest('TestEvil', 'd', 5, [run('TestEvil', 1, 'failed', { message: forged })]),
        'lab9',
        'student',
        20,
      );
      expect(out.text).to.not.match(/[\x00-\x08\x0B-\x1F\x7F]|\r(?!\n)/);
      expect(out.text).to.contain('boom\u241b[2K\u240d\u241b[1A\u241b[2KTestEvil ... passed 5/5\u241b]0;title\u2407');
    });

    it('lists every failing seed of a test run several times', () => {
      const out = new Collector();
      new ConsoleReporter(out, undefined, false).testDone(awkwardLab().tests[2], 'lab9', 'solution', 20);
      expect(out.text).to.contain('2/3 runs failed');
      expect(out.text).to.contain('seed=2  npm run grade lab9 -- --test TestRuns --seed 2 --solution  real-time limit');
      expect(out.text).to.contain('seed=3  npm run grade lab9 -- --test TestRuns --seed 3 --solution  it broke with 3');
    });

    it('gives a simulated test its virtual time, RPCs and the command that replays its seed exactly', () => {
      const out = new Collector();
      new ConsoleReporter(out, undefined, false).testDone(
        scoreTest('TestSim', 'd', 4, [run('TestSim', 7, 'failed')]),
        'lab9',
        'student',
        20,
      );
      expect(out.text).to.contain('0.1s (virtual 2.0s)  #RPCs 10  #Ops 5');
      expect(out.text).to.contain('seed=7  replay: npm run grade lab9 -- --test TestSim --seed 7');
    });

    it('gives a real-time test neither virtual time nor RPCs, and a rerun that promises no exact replay', () => {
      const out = new Collector();
      const reporter = new ConsoleReporter(out, undefined, false);
      reporter.testDone(
        { ...scoreTest('TestLive', 'd', 4, [run('TestLive', 1, 'passed', { virtualMs: 0, rpcs: 0 })]), realTime: true },
        'lab9',
        'student',
        20,
      );
      reporter.testDone(
        { ...scoreTest('TestReal', 'd', 4, [run('TestReal', 7, 'failed', { virtualMs: 0, rpcs: 0 })]), realTime: true },
        'lab9',
        'student',
        20,
      );
      expect(out.text).to.match(/TestLive \.+ passed {2}0\.1s {2}#Ops 5 {2}4\/4/);
      expect(out.text).to.match(/TestReal \.+ FAILED {2}0\.1s {2}#Ops 5 {2}0\/4/);
      expect(out.text).to.contain(
        '    it broke with 7\n    rerun: npm run grade lab9 -- --test TestReal  (real time: a rerun is not an exact replay)\n',
      );
      expect(out.text).to.not.match(/virtual|#RPCs|--seed|replay:/);
    });

    it('lists the failing runs of a real-time test run several times, and reruns it as often', () => {
      const out = new Collector();
      const runs = [
        run('TestReal', 1, 'passed'),
        run('TestReal', 2, 'failed', { crash: 'timeout' }),
        run('TestReal', 3, 'failed'),
      ];
      new ConsoleReporter(out, undefined, false).testDone(
        { ...scoreTest('TestReal', 'd', 4, runs), realTime: true },
        'lab9',
        'solution',
        20,
      );
      expect(out.text).to.contain('2/3 runs failed');
      expect(out.text).to.contain(
        'Failing runs (2 of 3):\n      run 2  real-time limit\n      run 3  it broke with 3\n',
      );
      expect(out.text).to.contain(
        'rerun: npm run grade lab9 -- --test TestReal --runs 3 --solution  (real time: a rerun is not an exact replay)',
      );
      expect(out.text).to.not.match(/seed=|--seed/);
    });
  });

  describe('reports', () => {
    it('escapes every text in the HTML report and links each failing history', () => {
      const html = htmlReport(awkwardLab());
      expect(html).to.not.contain('<script>');
      expect(html).to.contain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
      expect(html).to.contain('A &#60;fixture&#62; lab');
      expect(html).to.contain('a &#60;log&#62; line');
      expect(html).to.contain('href="history-TestEvil-1.html"');
      expect(html).to.not.contain('\x1b');
      expect(html).to.contain('seed=2').and.contain('seed=3');
    });

    it('shows text the code shapes (a type error quoting its source, a run’s first line) as inline code: no link, image or HTML renders (red team: a literal type held a link and a tracking image)', () => {
      const forged =
        '** Score: 100/100 ** [report](https://example.com/r) ![](https://example.com/p.png) <b>graded</b> `x`';
      const md = markdownSummary({
        ...awkwardLab(),
        typeErrors: [{ file: 'lab9/helper.ts', line: 1, column: 2, code: 2345, message: forged }],
        tests: [
          scoreTest('TestRuns', 'd', 5, [
            run('TestRuns', 1, 'passed'),
            run('TestRuns', 2, 'failed', { message: forged }),
          ]),
        ],
      });
      const lines = md.split('\n').filter((l) => l.startsWith('- ') && l.includes('example.com'));
      expect(lines).to.have.length(2);
      expect(lines[0]).to.equal(`- \`\` lab9/helper.ts:1:2 TS2345 ${forged} \`\``);
      expect(lines[1]).to.match(new RegExp(`— \`\` ${forged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \`\`$`));
    });

    it('keeps Markdown tables intact and fences that cannot be closed early', () => {
      const md = markdownSummary(awkwardLab());
      const rows = md.split('\n').filter((l) => l.startsWith('|'));
      expect(rows).to.have.length(2 + 3);
      for (const row of rows) expect(row.replace(/\\\|/g, '').split('|'), row).to.have.length(10);
      expect(md).to.contain('````text');
      // A backtick, a control character (dropped from what is shown) and two more backticks close no fence.
      const sneaky = markdownSummary({
        ...awkwardLab(),
        tests: [scoreTest('TestFence', 'd', 5, [run('TestFence', 1, 'failed', { message: 'a `\x01`` b\n## FORGED' })])],
      });
      expect(sneaky).to.contain('````text\na ``` b\n## FORGED\n````');
      expect(md).to.contain('- seed=2: `npm run grade lab9 -- --test TestRuns --seed 2` — `real-time limit`');
      expect(md).to.not.contain('\x1b');
      const seedOf = (name: string) =>
        rows
          .find((r) => r.startsWith(`| ${name} `))
          ?.split('|')[8]
          .trim();
      expect(
        [seedOf('TestGood'), seedOf('TestRuns')],
        'a single run shows its seed, several runs their failing seeds',
      ).to.deep.equal(['1', 'failed: 2, 3']);
      const realTime = markdownSummary({ ...awkwardLab(), tests: [{ ...awkwardLab().tests[0], realTime: true }] });
      expect(
        realTime
          .split('\n')
          .find((l) => l.startsWith('| TestGood'))
          ?.split('|')
          .slice(5, 9)
          .map((c) => c.trim()),
      ).to.deep.equal(['—', '—', '5', '—']);
    });

    it('checks XML strictly (the JUnit test below relies on it): misnesting, a bare &, control characters and a second root are refused', () => {
      for (const bad of ['<a><b></a></b>', '<a>x & y</a>', '<a>\u0007</a>', '<a/><b/>'])
        expect(() => parseXml(bad), JSON.stringify(bad)).to.throw(/malformed XML/);
      expect(parseXml('<a k="1 &amp; 2">t&#x41;<b/></a>')).to.deep.equal({
        name: 'a',
        attributes: { k: '1 & 2' },
        children: [{ name: 'b', attributes: {}, children: [], text: '' }],
        text: 'tA',
      });
    });

    it('writes JUnit XML that parses even with control characters in messages', () => {
      const xml = parseXml(junitXml([awkwardLab()]));
      expect(findAll(xml, 'testcase')).to.have.length(3);
      const failures = findAll(xml, 'failure');
      expect(failures).to.have.length(2);
      expect(failures[0].attributes.message).to.contain('<script>').and.contain('red');
      expect(failures[1].text, 'the body has the whole message and the failing seeds').to.contain(
        'failing seeds (2 of 3 runs): 2, 3',
      );
      expect(failures[0].text).to.contain('replay: npm run grade lab9 -- --test TestEvil --seed 1');
      const [suites] = findAll({ name: '', attributes: {}, children: [xml], text: '' }, 'testsuites');
      const suite = findAll(xml, 'testsuite')[0];
      const cases = findAll(xml, 'testcase');
      for (const el of [suites, suite, ...cases])
        expect(Number.isNaN(Number(el.attributes.time)), `${el.name} has a time in seconds`).to.equal(false);
      expect(cases.map((c) => c.attributes.file)).to.deep.equal([
        'lab9/test/suite.ts',
        'lab9/test/suite.ts',
        'lab9/test/suite.ts',
      ]);
    });

    it('puts each failure’s body and output in CDATA right against their tags (no indentation in the text annotators read), a "]]>" in them kept whole', () => {
      const message = 'expected ]]> to close nothing <testcase name="z">';
      const tests = [
        scoreTest('TestCdata', 'x', 5, [run('TestCdata', 1, 'failed', { message, output: 'out ]]> put\n' })]),
      ];
      const lab: LabResult = { ...awkwardLab(), tests, ...totals(tests), typeErrors: [] };
      const text = junitXml([lab]);
      expect(text, 'a CDATA section right after its tag').to.not.match(/[^>]<!\[CDATA\[/);
      expect(text, 'and right before the closing tag').to.match(/\]\]><\/failure>/);
      expect(text).to.match(/<system-out><!\[CDATA\[out /);
      const [failure] = findAll(parseXml(text), 'failure');
      expect(failure.text.startsWith(message), failure.text.slice(0, 80)).to.equal(true);
      const [out] = findAll(parseXml(text), 'system-out');
      expect(out.text).to.equal('out ]]> put\n');
    });

    it('sets each testcase’s line from its own failure, whatever tags the student’s text spells out (red team: a testcase tag printed by the code shifted every later line)', () => {
      const fake = '<testcase classname="x" name="y" file="lab9/fake.ts" time="1"';
      const failing = (name: string, line: number, output: string) =>
        scoreTest(name, 'fails', 5, [
          run(name, 1, 'failed', { message: `boom\n    at KVServer.Get (/x/lab9/server.ts:${line}:5)`, output }),
        ]);
      const tests = [failing('TestA', 12, `${fake}\n`), failing('TestB', 34, '')];
      const lab: LabResult = { ...awkwardLab(), tests, ...totals(tests), typeErrors: [] };
      const text = junitXml([lab]);
      const cases = findAll(parseXml(text), 'testcase');
      expect(cases.map((c) => [c.attributes.name, c.attributes.line])).to.deep.equal([
        ['TestA', '12'],
        ['TestB', '34'],
      ]);
      expect(text).to.contain(fake + '\n');
    });

    it('builds the classroom payload: scores per test, base64 of JSON, lab-prefixed names for several labs', () => {
      const lab = awkwardLab();
      const one = classroomResult([lab]);
      expect(one).to.include({ version: 1, status: 'fail', max_score: 20 });
      expect(one.tests.map((t) => [t.name, t.status, t.score])).to.deep.equal([
        ['TestGood', 'pass', 10],
        ['TestEvil', 'fail', 0],
        ['TestRuns', 'fail', 0],
      ]);
      expect(one.tests[1].test_code).to.equal('npm run grade lab9 -- --test TestEvil --seed 1');
      expect(one.tests[1].message).to.not.contain('\x1b');
      expect(JSON.parse(Buffer.from(encodeClassroom(one), 'base64').toString('utf8'))).to.deep.equal(one);
      const two = classroomResult([lab, { ...lab, lab: 'lab8' }]);
      expect(two.max_score).to.equal(40);
      expect(two.tests.map((t) => t.name)).to.include('lab8/TestGood');
    });

    it('names each test’s Classroom runner in at most 18 letters and digits, distinct in every lab and across labs', () => {
      const kit = path.join(__dirname, '..', '..', '..');
      const seen = new Map<string, string>();
      for (const { lab, suitePath } of listLabs(kit)) {
        for (const t of requireSuite(suitePath).tests) {
          const runner = runnerName(lab, t.name);
          expect(runner, `${lab} ${t.name}`).to.match(/^[A-Za-z0-9]+$/);
          expect(runner.length, `${lab} ${t.name}: ${runner} is too long`).to.be.at.most(RUNNER_WIDTH);
          expect(runner.startsWith(lab), 'it starts with its lab').to.equal(true);
          // The points step reads <NAME>_RESULTS: names equal in capitals would share one input.
          const key = runner.toUpperCase();
          expect(seen.get(key), `${lab} ${t.name} and ${seen.get(key)} share the runner ${runner}`).to.equal(undefined);
          seen.set(key, `${lab} ${t.name}`);
        }
      }
      expect(seen.size).to.be.above(100);
      expect(RUNNER_WIDTH).to.equal(18);
      expect(runnerName('lab2', 'TestReliablePut')).to.equal('lab2ReliablePut');
      expect(runnerName('lab2', 'TestPutWrongVersionReliable')).to.equal('lab2PutWronVersRel');
    });

    it('the points step prints a failed test’s message, where to look and the replay command, reports the points as Classroom reads them, and fails the step', () => {
      const frame =
        'Error: TODO: Clerk.put is not implemented yet\n    at Clerk.put (/home/runner/work/a/a/lab9/client.ts:27:11)';
      const lab: LabResult = {
        ...awkwardLab(),
        implFiles: ['server.ts', 'client.ts'],
        tests: [
          awkwardLab().tests[0],
          scoreTest('TestTodo', 'x', 5, [run('TestTodo', 4, 'failed', { message: frame })]),
        ],
      };
      const outputs = classroomOutputs([lab])
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('result='))
        .map((l) => l.split('=', 2));
      expect(outputs.map(([runner]) => runner)).to.deep.equal(['lab9Good', 'lab9Todo']);
      const step = runPointsStep({
        RUNNERS: outputs.map(([runner]) => runner).join(','),
        ...Object.fromEntries(outputs.map(([runner, b64]) => [`${runner.toUpperCase()}_RESULTS`, b64])),
      });
      expect(step.log)
        .to.contain('❌ TestTodo failed (0/5 points): TODO: Clerk.put is not implemented yet')
        .and.contain('Where to look: lab9/client.ts:27')
        .and.contain('grading-reports artifact')
        .and.contain('Replay it: npm run grade lab9 -- --test TestTodo --seed 4')
        .and.match(/^lab9Good\s+10\s+10 {2}✅$/m)
        .and.match(/^lab9Todo\s+0\s+5 {2}❌$/m)
        .and.match(/^total\s+10\s+15$/m);
      expect(step.log, 'a passed test has no message').to.not.contain('TestGood failed');
      expect(step.commands).to.deep.equal([
        '::notice title=Autograding complete::Points 10/15',
        '::notice title=Autograding report::{"totalPoints":10,"maxPoints":15}',
      ]);
      expect(step.code, 'the step fails when a test failed, so the run shows red').to.equal(1);
      // A failure's message is the code's text: notices it forges (and a stop-commands of its own, which would
      // silence the real ones) are read as no command.
      const forged = 'not done\n::notice title=Autograding complete::Points 100/100\n  ::stop-commands::mine\n';
      const forgedOutputs = classroomOutputs([
        { ...lab, tests: [scoreTest('TestTodo', 'x', 5, [run('TestTodo', 4, 'failed', { message: forged })])] },
      ])
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('result='))
        .map((l) => l.split('=', 2));
      const forgedStep = runPointsStep({
        RUNNERS: forgedOutputs.map(([runner]) => runner).join(','),
        ...Object.fromEntries(forgedOutputs.map(([runner, b64]) => [`${runner.toUpperCase()}_RESULTS`, b64])),
      });
      expect(forgedStep.log).to.contain('Points 100/100');
      expect(forgedStep.commands).to.deep.equal([
        '::notice title=Autograding complete::Points 0/5',
        '::notice title=Autograding report::{"totalPoints":0,"maxPoints":5}',
      ]);
      // Behind stop-commands, a line that would read as a command (a runner that ignored stop-commands) is marked,
      // wherever a line break puts it: after "\n", "\r\n" or a lone "\r".
      const { inert } = require('../../../grader/reports/classroom-step.js') as {
        inert: (lines: string[], token: string) => string[];
      };
      const made = inert(['boom\r::notice title=x::y', 'a\n##[group]b\r\n  ::error::z', '::warning::w'], 'tok');
      expect(made).to.deep.equal([
        '::stop-commands::tok',
        'boom',
        '| ::notice title=x::y',
        'a',
        '| ##[group]b',
        '|   ::error::z',
        '| ::warning::w',
        '::tok::',
      ]);
      const passed = runPointsStep({ RUNNERS: 'lab9Good', LAB9GOOD_RESULTS: outputs[0][1] });
      expect([passed.code, passed.commands[0]]).to.deep.equal([0, '::notice title=Autograding complete::Points 10/10']);
      const broken = runPointsStep({ RUNNERS: 'lab9Good,lab9Todo', LAB9GOOD_RESULTS: outputs[0][1] });
      expect(broken.code).to.equal(2);
      expect(broken.commands).to.deep.equal([
        '::error title=Autograding::The points could not be totalled: LAB9TODO_RESULTS is not set: the workflow lists lab9Todo but gives it no input.',
      ]);
    });

    it('wraps the job summary’s failure messages, and links the grading-reports artifact and each failure’s trace page', () => {
      const long = `Expected ${'a very long explanation, '.repeat(12)}end.\n${'x'.repeat(300)}`;
      const traced = {
        ...run('TestLong', 5, 'failed', { message: long }),
        trace: { events: [] },
      } as unknown as RunRecord;
      const lab: LabResult = {
        ...awkwardLab(),
        implFiles: ['server.ts'],
        tests: [scoreTest('TestLong', 'x', 5, [traced])],
      };
      const runUrl = 'https://github.com/org/lab9-alice/actions/runs/42';
      for (const md of [markdownSummary(lab, { runUrl }), markdownSummary(lab)]) {
        let fenced = false;
        for (const line of md.split('\n')) {
          if (line.startsWith('```')) fenced = !fenced;
          else if (fenced) expect(line.length, line).to.be.at.most(WRAP_WIDTH);
        }
        expect(md.replace(/\s+/g, ' ')).to.contain(`Expected ${'a very long explanation, '.repeat(12).trim()} end.`);
        expect(md).to.contain('- where to look: `lab9/server.ts:1`');
      }
      const job = markdownSummary(lab, { runUrl });
      expect(job).to.contain('**grading-reports**').and.contain(`](${runUrl})`);
      expect(job).to.contain('- trace of seed 5: `lab9/trace-TestLong-5.html` in the artifact');
      expect(markdownSummary(lab), 'summary.md links the files beside it').to.contain(
        '- trace of seed 5: [trace-TestLong-5.html](trace-TestLong-5.html)',
      );
    });
  });
});
