/** Trace pages: a failing simulated test is replayed with recording on and gets a self-contained page; a passing one gets none. */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { TraceData, TraceEvent } from '../../../world';
import { grade } from '../../../grader';
import { mutants as lab2Mutants } from '../../../solutions/lab2/mutants';
import { FIXTURES, fixtureOptions, mutantRoot } from './helpers';

/** The recording embedded in a trace page. */
function embedded(html: string): TraceData {
  const m = /<script type="application\/json" id="trace-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m, 'the page embeds its trace').to.not.equal(null);
  return JSON.parse((m as RegExpExecArray)[1]) as TraceData;
}

describe('grader: trace pages', function () {
  this.timeout(120_000);
  /** Folders a test made for a mutant's grade, removed when the tests are done. */
  const made: string[] = [];
  after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('writes a self-contained trace page for a failing test, with the failing moment and the code’s printed line on the server’s lane, linked from index.html and the console', async () => {
    const options = fixtureOptions(FIXTURES.crashy, { tests: ['TestBasic', 'TestWrongAnswer'], seed: 11, jobs: 1 });
    const result = await grade(options);
    const dir = path.join(options.reportDir as string, 'lab9');
    const wrong = result.labs[0].tests.find((t) => t.name === 'TestWrongAnswer');
    const page = path.join(dir, 'trace-TestWrongAnswer-11.html');
    expect(fs.existsSync(page), 'trace page written').to.equal(true);
    const html = fs.readFileSync(page, 'utf8');
    // Self-contained: no script or style comes from anywhere else.
    expect(html).to.not.match(/<script[^>]+src=|<link[^>]+href=|@import|https?:\/\//i);
    const trace = embedded(html);
    const fail = trace.events.find((e): e is Extract<TraceEvent, { k: 'fail' }> => e.k === 'fail');
    expect(fail?.message).to.contain('Get returned 21 instead of 20');
    expect(fail?.t).to.equal(wrong?.virtualMs);
    expect(trace.events.filter((e) => e.k === 'call')).to.have.length(21);
    expect(trace.events.find((e) => e.k === 'log')).to.deep.include({
      lane: 'counter',
      text: 'Get(wrong): adding one for luck, 20 -> 21',
    });
    expect(html).to.contain('href="history-TestWrongAnswer-11.html"');
    const index = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
    expect(index).to.contain('href="trace-TestWrongAnswer-11.html"');
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as {
      tests: Array<{ name: string; runs: Array<{ trace: string | null; minimalFaults: { total: number } | null }> }>;
    };
    expect(json.tests.find((t) => t.name === 'TestWrongAnswer')?.runs[0].trace).to.equal(
      'trace-TestWrongAnswer-11.html',
    );
    expect(json.tests.find((t) => t.name === 'TestWrongAnswer')?.runs[0].minimalFaults).to.deep.include({ total: 0 });
    expect(options.out.text).to.match(
      /replay: npm run grade lab9 -- --test TestWrongAnswer --seed 11\n\s+trace: \S+trace-TestWrongAnswer-11\.html/,
    );
    // The fixture's network is reliable: minimization has no fault to remove, and says what that means.
    expect(options.out.text).to.contain(
      'No message was lost and no server stopped in this run: it fails on a reliable network',
    );
    expect(html).to.contain('Smallest failing schedule.');
    // The passing test has no page, and the failing run's record is still the first run's (replays are not counted).
    expect(fs.existsSync(path.join(dir, 'trace-TestBasic-11.html')), 'no page for a passing test').to.equal(false);
    expect(json.tests.find((t) => t.name === 'TestBasic')?.runs[0].trace).to.equal(null);
    expect(wrong?.runs).to.have.length(1);
    expect(options.out.text).to.not.match(/trace: \S+TestBasic/);
  });

  it('gives the smallest failing schedule a trace page of its own, linked from the run’s page, index.html, results.json and the console', async () => {
    // A lock that takes ErrMaybe for success: on seed 9 it fails with just one of the run's lost messages (the search
    // takes some 35 runs; its budget is generous so that a busy machine cannot cut it short).
    const root = mutantRoot(
      'lab2',
      lab2Mutants.find((m) => m.name === 'errmaybe-means-held')!,
    );
    made.push(root);
    const test = 'TestAcquireTimeoutUnreliable';
    const options = fixtureOptions(root, {
      lab: 'lab2',
      target: 'solution',
      tests: [test],
      seed: 9,
      minimizeSec: 100,
      compartment: false,
      permissions: false,
      reportDir: path.join(root, 'reports'),
    });
    await grade(options);
    const dir = path.join(options.reportDir as string, 'lab2');
    const small = `trace-${test}-9-minimal.html`;
    expect(fs.existsSync(path.join(dir, small)), 'the smallest schedule’s page is written').to.equal(true);
    const chance = (t: TraceData): number => t.events.filter((e) => e.k === 'drop' && e.why === 'unreliable').length;
    const page = fs.readFileSync(path.join(dir, small), 'utf8');
    const whole = fs.readFileSync(path.join(dir, `trace-${test}-9.html`), 'utf8');
    expect(chance(embedded(page)), 'the smallest schedule loses one message by chance').to.equal(1);
    expect(chance(embedded(whole)), 'the whole run loses many').to.be.greaterThan(10);
    expect(page).to.contain('smallest failing schedule').and.contain(`href="trace-${test}-9.html"`);
    expect(whole).to.contain(`href="${small}"`);
    expect(fs.readFileSync(path.join(dir, 'index.html'), 'utf8')).to.contain(`href="${small}"`);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as {
      tests: Array<{ runs: Array<{ minimalFaults: { trace: string | null } | null }> }>;
    };
    expect(json.tests[0].runs[0].minimalFaults?.trace).to.equal(small);
    expect(options.out.text.replace(/\s+/g, ' ')).to.match(
      new RegExp(
        `could be removed; it still fails with just this one: .* Trace of this smallest failing schedule: \\S+${small}`,
      ),
    );
    // The console names the lost message's sender as the page names its lane, and the page lists the end under it.
    const named =
      /the (?:reply to|request of) (client \d+)'s KVServer\.Put\(.*\) sent at [\d.]+ ms \(end (clerk-\d+)\)/.exec(
        options.out.text,
      );
    expect(named, options.out.text).to.not.equal(null);
    const [, client, end] = named as RegExpExecArray;
    const calls = embedded(page).events.filter((e) => e.k === 'call' && e.end === end);
    expect(calls.length).to.be.greaterThan(0);
    expect(calls.every((e) => e.k === 'call' && e.from === client)).to.equal(true);
    expect(page).to.contain(`<li>${client}: sends through ${end}</li>`);
  });

  it('does not minimize with minimizeSec 0 (--no-minimize, or a replay), and says how to ask for it', async () => {
    const options = fixtureOptions(FIXTURES.crashy, { tests: ['TestWrongAnswer'], seed: 11, minimizeSec: 0 });
    await grade(options);
    expect(options.out.text).to.contain('trace: ');
    expect(options.out.text).to.not.contain('in this run: it fails');
    expect(options.out.text).to.contain('Add --minimize to the replay command');
  });

  it('says in one line what a TODO failure needs, with no seed, trace or fault diagnosis', async () => {
    const options = fixtureOptions(FIXTURES.crashy, { tests: ['TestWrongAnswer'], seed: 11 });
    const out = { text: '', write: (t: string) => ((out.text += t), true) };
    // The untouched lab 2 skeleton in the kit: every clerk call throws its TODO.
    await grade({ ...options, lab: 'lab2', root: undefined, tests: ['TestReliablePut'], out });
    const lines = out.text.split('\n').filter((l) => l.startsWith('    '));
    expect(out.text).to.match(/TestReliablePut \.+ FAILED .*\[TODO\]/);
    // The line of the skeleton's put that throws (the `throw` above its message), read from the file, so that the
    // test follows edits of the skeleton.
    const skeleton = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'lab2', 'client.ts'), 'utf8').split('\n');
    const line = skeleton.findIndex((l) => l.includes('Clerk.put is not implemented yet'));
    expect(line, 'the lab 2 skeleton still has its put TODO').to.be.greaterThan(0);
    expect(lines).to.deep.equal([
      `    TODO: Clerk.put is not implemented yet (key "k", version 0); see lab2/README.md, part 1 (lab2/client.ts:${line})`,
    ]);
    expect(out.text).to.not.match(/trace:|seed=|faults|reliable network/);
  });

  it('writes no trace page when traces are switched off', async () => {
    const options = fixtureOptions(FIXTURES.crashy, { tests: ['TestWrongAnswer'], seed: 11, traces: false });
    await grade(options);
    expect(
      fs.readdirSync(path.join(options.reportDir as string, 'lab9')).filter((f) => f.startsWith('trace-')),
    ).to.deep.equal([]);
  });
});
