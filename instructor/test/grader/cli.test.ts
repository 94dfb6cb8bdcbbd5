/** The command line: options, errors and exit codes (in-process), and --json / --classroom (as a real process). */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, runCli, SELECTED_REPORTS } from '../../../grader/cli';
import { CODE_OUTPUT_MARK, markedCodeOutput } from '../../../grader/console';
import { DEFAULT_MINIMIZE_SEC } from '../../../grader/format';
import { runnerName } from '../../../grader/reports/classroom';
import { Collector, FIXTURES, tempDir } from './helpers';

/** Runs the CLI in this process against a fixture root. */
async function cli(
  args: string[],
  root: string = FIXTURES.crashy,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Collector();
  const stderr = new Collector();
  const code = await runCli(args, { stdout, stderr, env: { KVLABS_LAB_ROOT: root } });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const REPO = path.join(__dirname, '..', '..', '..');

/** Runs `npm run grade`'s command line as a separate process (with the grade script's node flags unless told). */
function grader(
  args: string[],
  env: Record<string, string>,
  nodeFlags = ['--expose-gc'],
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...nodeFlags, '-r', './grader/register.js', 'grader/cli.ts', ...args], {
    cwd: REPO,
    env: { ...process.env, KVLABS_LAB_ROOT: FIXTURES.crashy, NO_COLOR: '1', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('grader: command line', function () {
  this.timeout(60_000);

  it('explains itself with --help (options and examples), exit code 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).to.equal(0);
    for (const s of [
      '--solution',
      '--test',
      '--seed',
      '--runs',
      '--json',
      '--report',
      '--classroom',
      'Examples:',
      'npm run grade lab9 -- --test TestBasic --seed 12345',
      'Exit codes',
    ]) {
      expect(r.stdout).to.contain(s);
    }
  });

  it('shows examples for the labs that are here: their tests, and --solution only beside a reference solution', async () => {
    const kit = await cli(['--help'], FIXTURES.crashy);
    expect(kit.stdout).to.contain('npm run grade lab9 -- --solution');
    const template = await cli(['--help'], FIXTURES.typeerror); // lab9 and no solutions folder, as in a template
    const shown = template.stdout.slice(template.stdout.indexOf('Examples:'), template.stdout.indexOf('Seeds:'));
    expect(shown).to.contain('npm run grade lab9 -- --test TestBasic');
    expect(shown).not.to.contain('--solution');
    expect(shown).not.to.contain('lab2');
    expect(shown, 'one lab: no "all"').not.to.contain('npm run grade all');
  });

  it('replays a printed seed without the fault search unless asked (--minimize), and searches on a fresh seed', () => {
    const io = { stdout: new Collector(), stderr: new Collector(), env: { KVLABS_LAB_ROOT: FIXTURES.crashy } };
    const report = ['--report', tempDir()];
    const minimize = (...args: string[]) => parseArgs(['lab9', ...args, ...report], io).options.minimizeSec;
    expect(minimize('--test', 'TestBasic', '--seed', '7'), 'a replay only replays').to.equal(0);
    expect(minimize('--test', 'TestBasic', '--seed', '7', '--minimize')).to.equal(DEFAULT_MINIMIZE_SEC);
    expect(minimize('--test', 'TestBasic'), 'a fresh seed: the default search').to.equal(undefined);
    expect(minimize('--no-minimize')).to.equal(0);
  });

  it("writes a --test run's reports beside the whole lab's, never over them (unless --report says where)", () => {
    const io = { stdout: new Collector(), stderr: new Collector(), env: { KVLABS_LAB_ROOT: FIXTURES.crashy } };
    const reportDir = (...args: string[]) => parseArgs(['lab9', ...args], io).options.reportDir;
    expect(reportDir()).to.equal(path.resolve('reports'));
    expect(reportDir('--test', 'TestBasic')).to.equal(path.resolve('reports', SELECTED_REPORTS));
    const own = tempDir();
    expect(reportDir('--test', 'TestBasic', '--report', own)).to.equal(path.resolve(own));
  });

  it('rejects an unknown lab, listing the valid ones, exit code 2', async () => {
    const r = await cli(['lab42']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('There is no lab called "lab42"').and.contain('Labs you can grade: lab9');
  });

  it('rejects an unknown test, listing the lab’s tests, exit code 2', async () => {
    const r = await cli(['lab9', '--test', 'TestBasic', 'TestNope']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('lab9 has no test called "TestNope"').and.contain('TestOutOfMemory');
    const typo = await cli(['lab9', '--test', 'testbasic']);
    expect(typo.code).to.equal(2);
    expect(typo.stderr).to.contain('Did you mean TestBasic?');
  });

  it('rejects an invalid seed with an explanation, exit code 2', async () => {
    for (const seed of ['12abc', '1.5', '99999999999999999999']) {
      const r = await cli(['lab9', '--seed', seed]);
      expect(r.code, seed).to.equal(2);
      expect(r.stderr, seed).to.match(/Invalid seed/);
    }
  });

  it('rejects --runs 0, a budget under 10 s and a missing lab, exit code 2', async () => {
    expect((await cli(['lab9', '--runs', '0'])).code).to.equal(2);
    const budget = await cli(['lab9', '--budget', '5']);
    expect(budget.code).to.equal(2);
    expect(budget.stderr).to.contain('--budget needs a whole number of at least 10 (got "5")');
    const missing = await cli([]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('missing required argument');
  });

  it('rejects a --report that is a file or a system folder at once, naming it and what to give instead, exit code 2', async () => {
    const file = path.join(tempDir('report-file'), 'notes.txt');
    fs.writeFileSync(file, 'mine');
    for (const [dir, why] of [
      [file, 'that is a file, not a folder'],
      ['/proc/self', 'a system folder'],
      ['/sys/x/../kernel', 'a system folder'],
    ]) {
      const r = await cli(['lab9', '--report', dir]);
      expect(r.code, dir).to.equal(2);
      expect(r.stderr, dir).to.contain(`--report ${dir}: `).and.contain(why).and.contain('Give a folder of your own');
    }
    expect(fs.readFileSync(file, 'utf8'), 'the file is left alone').to.equal('mine');
  });

  it('shows the type errors in the student’s files before the tests, runs the tests anyway, and lists them in results.json', async () => {
    const dir = tempDir();
    // A fresh cache: the check is not known yet, so it runs beside the test, which finishes first.
    const r = await cli(
      ['lab9', '--test', 'TestBasic', '--seed', '1', '--report', dir, '--cache-dir', tempDir()],
      FIXTURES.typeerror,
    );
    expect(r.code, r.stderr).to.equal(0);
    const top = r.stdout.slice(0, r.stdout.indexOf('TestBasic'));
    expect(top)
      .to.contain('TypeScript finds a type error in your files')
      .and.match(/lab9\/counter\.ts:6:11 TS2322 Type 'number' is not assignable to type 'string'/);
    expect(r.stdout).to.contain('Score: 10/10');
    const doc = JSON.parse(fs.readFileSync(path.join(dir, 'lab9', 'results.json'), 'utf8')) as {
      typeErrors: Array<{ file: string; line: number; code: number }>;
    };
    expect(doc.typeErrors.map((p) => [p.file, p.line, p.code])).to.deep.equal([['lab9/counter.ts', 6, 2322]]);
    expect(fs.readFileSync(path.join(dir, 'lab9', 'summary.md'), 'utf8')).to.contain('lab9/counter.ts:6:11 TS2322');
    expect(fs.readFileSync(path.join(dir, 'lab9', 'index.html'), 'utf8')).to.contain(
      'TypeScript finds a type error in your files.',
    );
    const clean = await cli(['lab9', '--test', 'TestBasic', '--seed', '1', '--report', tempDir()], FIXTURES.clean);
    expect(clean.stdout, 'no type errors, no warning').not.to.contain('TypeScript finds');
  });

  it('names the export it expected when the student’s file lacks it, failing only the tests that use it', async () => {
    const r = await cli(['lab9', '--test', 'TestBasic', '--seed', '1', '--report', tempDir()], FIXTURES.noexport);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.contain(
      'Your code does not export "CounterServer", which this test uses (it is loaded from one of lab9/counter.ts)',
    );
    expect(r.stdout).not.to.contain('is not a constructor');
  });

  it('with --verbose shows what the code printed once, as it ran, not again under the failure', async () => {
    const r = await cli(['lab9', '--test', 'TestWrongAnswer', '--seed', '1', '--verbose', '--report', tempDir()]);
    expect(r.code).to.equal(1);
    const all = r.stdout + r.stderr;
    expect(all.split('adding one for luck').length - 1, all).to.equal(1);
    const printed = all.split('\n').filter((l) => l.includes('adding one for luck'));
    expect(
      printed.every((l) => l.startsWith(CODE_OUTPUT_MARK)),
      'each line the code printed is marked',
    ).to.equal(true);
    expect(r.stdout).to.contain('shown above, as it ran');
    const quiet = await cli(['lab9', '--test', 'TestWrongAnswer', '--seed', '1', '--report', tempDir()]);
    expect(quiet.stdout).to.contain('Your code printed').and.contain('adding one for luck');
  });

  it('reports a suite whose scoring is wrong, naming the suite file and the test, exit code 2', async () => {
    const r = await cli(['lab9'], FIXTURES.badrubric);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('lab9/test/suite.ts').and.contain('more than one test named TestFlaky');
  });

  it('grades every lab with "all" and prints a grand total', async () => {
    const r = await cli(['all', '--test', 'TestBasic', '--seed', '1', '--report', tempDir()]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout)
      .to.contain('All labs')
      .and.match(/lab9 +10\/10/)
      .and.contain('Total: 10/10');
    const unknown = await cli(['all', '--test', 'TestNope']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain('No lab has a test called "TestNope"').and.contain('lab9: TestBasic');
  });

  it('prints only JSON on stdout with --json, and exit code 1 when a test fails', () => {
    const dir = tempDir();
    const r = grader(['lab9', '--test', 'TestBasic', 'TestWrongAnswer', '--seed', '3', '--json', '--report', dir], {});
    expect(r.status, r.stderr).to.equal(1);
    const doc = JSON.parse(r.stdout) as {
      score: number;
      maxScore: number;
      passed: boolean;
      labs: Array<{ lab: string; tests: Array<{ name: string; status: string; seed: number }> }>;
    };
    expect(doc.score).to.equal(10);
    expect(doc.maxScore).to.equal(20);
    expect(doc.passed).to.equal(false);
    expect(doc.labs[0].tests.map((t) => [t.name, t.status, t.seed])).to.deep.equal([
      ['TestBasic', 'passed', 3],
      ['TestWrongAnswer', 'failed', 3],
    ]);
    expect(r.stderr, 'the human-readable lines go to stderr').to.contain('Score: 10/20');
    expect(fs.existsSync(path.join(dir, 'lab9', 'index.html'))).to.equal(true);
  });

  it('with --classroom writes result=<base64> to $GITHUB_OUTPUT, exit code 0 when all pass (and gives workers gc without --expose-gc)', () => {
    const dir = tempDir();
    const out = path.join(dir, 'github-output');
    fs.writeFileSync(out, 'earlier=1\n');
    const r = grader(['lab9', '--test', 'TestBasic', '--classroom', '--report', dir], { GITHUB_OUTPUT: out }, []);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('TestBasic').and.contain('Score: 10/10');
    const printed = r.stdout.trim().split('\n');
    const token = /^::stop-commands::([0-9a-f]{32})$/.exec(printed[0])?.[1];
    expect(token, 'what the grade prints is no workflow command (it holds the code’s text)').to.not.equal(undefined);
    expect(printed.at(-1)).to.equal(`::${token}::`);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).to.equal('earlier=1');
    const m = /^result=([A-Za-z0-9+/=]+)$/.exec(lines[1]);
    expect(m, lines[1]).to.not.equal(null);
    const payload = JSON.parse(Buffer.from((m as RegExpExecArray)[1], 'base64').toString('utf8')) as {
      status: string;
      max_score: number;
      tests: Array<{ score: number }>;
    };
    expect(payload.status).to.equal('pass');
    expect(payload.max_score).to.equal(10);
    expect(payload.tests.map((t) => t.score)).to.deep.equal([10]);
    const own = new RegExp(`^${runnerName('lab9', 'TestBasic')}=([A-Za-z0-9+/=]+)$`).exec(lines[2]);
    expect(own, 'one output per test, for its own reporter runner').to.not.equal(null);
    const single = JSON.parse(Buffer.from((own as RegExpExecArray)[1], 'base64').toString('utf8')) as {
      status: string;
      max_score: number;
      tests: Array<{ name: string; score: number }>;
    };
    expect([single.status, single.max_score, single.tests.map((t) => [t.name, t.score])]).to.deep.equal([
      'pass',
      10,
      [['TestBasic', 10]],
    ]);
    expect(lines).to.have.length(3);
  });

  it('with --verbose marks each line the code prints, so a forged verdict or score cannot pass for the grader’s (red team: it printed word for word)', () => {
    let shown = '';
    const sink = markedCodeOutput({ write: (t: string) => (shown += t) });
    sink.write('TestBasic ...... passed  0.1s  10/10\nScore: 10');
    sink.write('/10   (every test passed)\n\rScore: 99/10\x1b[2K\n');
    expect(shown).to.equal(
      `${CODE_OUTPUT_MARK}TestBasic ...... passed  0.1s  10/10\n${CODE_OUTPUT_MARK}Score: 10/10   (every test passed)\n` +
        `${CODE_OUTPUT_MARK}\u240dScore: 99/10\u241b[2K\n`,
    );
  });
});
