/** The lincheck command line, run as a child process (the runs start in parallel to save time). */
import { expect } from 'chai';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../checker/cli';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DATA = path.join('instructor', 'test', 'checker', 'testdata', 'porcupine');

/** What one run printed and how it ended. */
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args` from the repository root. */
function lincheck(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', './grader/register.js', path.join('checker', 'cli.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the CLI's `main` in this process, capturing what it writes (for the cheap cases). */
function lincheckHere(args: string[]): Run {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

/** A kv history whose check cannot finish: 14 overlapping appends, then a get nobody can explain. */
function hardKvHistory(): string {
  const lines: string[] = [];
  for (let p = 0; p < 14; p++)
    lines.push(`{:process ${p}, :type :invoke, :f :append, :key "k", :value "${String.fromCharCode(97 + p)}"}`);
  for (let p = 0; p < 14; p++)
    lines.push(`{:process ${p}, :type :ok, :f :append, :key "k", :value "${String.fromCharCode(97 + p)}"}`);
  lines.push(
    '{:process 99, :type :invoke, :f :get, :key "k", :value nil}',
    '{:process 99, :type :ok, :f :get, :key "k", :value "impossible"}',
  );
  return lines.join('\n') + '\n';
}

describe('lincheck CLI', function () {
  this.timeout(60_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lincheck-cli-'));
  const htmlDir = path.join(tmp, 'pages');
  const hard = path.join(tmp, 'hard.txt');
  const broken = path.join(tmp, 'broken.log');
  const ok = path.join(DATA, 'kv', 'c01-ok.txt');
  const bad = path.join(DATA, 'kv', 'c01-bad.txt');
  const etcdOk = path.join(DATA, 'etcd', 'etcd_002.log');
  const etcdBad = path.join(DATA, 'etcd', 'etcd_000.log');
  let mixed: Run;
  let allOk: Run;
  let malformed: Run;
  let help: Run;
  let badOption: Run;
  let missing: Run;

  before(async () => {
    fs.writeFileSync(hard, hardKvHistory());
    fs.writeFileSync(
      broken,
      'INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\tnil\n',
    );
    // Two real child processes (exit codes and streams as a shell sees them); the rest run in-process.
    [mixed, malformed] = await Promise.all([
      lincheck(['--timeout', '300', '--html', htmlDir, ok, bad, etcdBad, hard]),
      lincheck([ok, broken]),
    ]);
    allOk = lincheckHere(['--model', 'etcd', etcdOk, '--timeout', '20000']);
    help = lincheckHere(['--help']);
    badOption = lincheckHere(['--model', 'nope', ok]);
    missing = lincheckHere([path.join(tmp, 'no-such-file.txt')]);
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('prints one line per file with verdict and time, and exits 1 when a file is illegal', () => {
    const lines = mixed.stdout.trim().split('\n');
    expect(lines).to.have.length(4);
    expect(lines[0]).to.match(new RegExp(`^${escapeRe(ok)} ok \\d+ms$`));
    expect(lines[1]).to.match(new RegExp(`^${escapeRe(bad)} illegal \\d+ms$`));
    expect(lines[2]).to.match(new RegExp(`^${escapeRe(etcdBad)} illegal \\d+ms$`));
    expect(lines[3]).to.match(new RegExp(`^${escapeRe(hard)} unknown \\d+ms$`));
    expect(mixed.code).to.equal(1);
  });

  it('writes a viewer page per failing file with --html', () => {
    expect(fs.readdirSync(htmlDir).sort()).to.deep.equal(['c01-bad.html', 'etcd_000.html', 'hard.html']);
    const page = fs.readFileSync(path.join(htmlDir, 'c01-bad.html'), 'utf8');
    expect(page).to.match(/class="op unplaced[^"]*" data-op=/);
    expect(page).to.not.match(/https?:\/\//);
    expect(mixed.stderr).to.include(`wrote ${path.join(htmlDir, 'c01-bad.html')}`);
  });

  it('exits 0 when no file is illegal', () => {
    expect(allOk.stdout).to.match(/etcd_002\.log ok \d+ms\n$/);
    expect(allOk.code).to.equal(0);
  });

  it('reports a malformed file in one line with file and line number, and exits 2', () => {
    expect(malformed.code).to.equal(2);
    expect(malformed.stdout).to.match(/c01-ok\.txt ok \d+ms/);
    const err = malformed.stderr.trim().split('\n');
    expect(err).to.have.length(1);
    expect(err[0]).to.equal(
      `lincheck: error: ${broken}:3: process 0 returns (:ok :read) without an operation in progress (a return without a call, or a second return)`,
    );
    expect(malformed.stderr).to.not.match(/\n\s+at /);
  });

  it('prints usage with --help and exits 0', () => {
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('Usage: npm run lincheck -- [options] <files...>');
    for (const flag of ['--model', '--timeout', '--html', '--sequential']) expect(help.stdout).to.include(flag);
  });

  it('refuses bad options and missing files with a one-line message and exit code 2', () => {
    expect(badOption.code).to.equal(2);
    expect(badOption.stderr.trim().split('\n')).to.have.length(1);
    expect(badOption.stderr).to.match(/^lincheck: error: option '--model <model>' argument 'nope' is invalid/);
    expect(missing.code).to.equal(2);
    expect(missing.stderr.trim()).to.match(/^lincheck: error: cannot read .*no-such-file\.txt: no such file$/);
  });
});

/** Escapes a string for use inside a regular expression. */
function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
