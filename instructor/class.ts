/** Builds a fixture class of lab 2 submissions (whole student repositories) for the batch grader's tests and bench. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { materialiseMutant, Mutant, removeMutant } from '../solutions/mutants';
import { KIT_ROOT } from './release';

/** The reference solution's folder for a lab. */
export function solutionDir(lab: string): string {
  return path.join(KIT_ROOT, 'solutions', lab);
}

/** A solution file as a student would have it in labN/ (imports relative to labN/ instead of solutions/labN/). */
export function asStudentFile(text: string, lab: string): string {
  return text.split(`'../../${lab}/`).join("'./").split("'../../").join("'../");
}

/** Copies a template (without node_modules and .git) to `dest`: a student's untouched repository. */
export function copyTemplate(template: string, dest: string): void {
  fs.cpSync(template, dest, { recursive: true, filter: (src) => !/[\\/](node_modules|\.git)$/.test(src) });
}

/** Writes the solution's files (or a mutant's) into a student repository's lab folder. */
export function putSolution(repo: string, lab: string, files: readonly string[], mutant?: Mutant): void {
  const from = mutant ? materialiseMutant(solutionDir(lab), mutant) : solutionDir(lab);
  try {
    for (const f of files)
      fs.writeFileSync(path.join(repo, lab, f), asStudentFile(fs.readFileSync(path.join(from, f), 'utf8'), lab));
  } finally {
    if (mutant) removeMutant(from);
  }
}

/** What each fixture student did, and so what the gradebook must say. */
export type Kind =
  | 'correct'
  | 'mutant'
  | 'hanging'
  | 'syntax-error'
  | 'exits'
  | 'tampered-test'
  | 'missing-file'
  | 'helper-file'
  | 'hostile'
  | 'symlinked-lab'
  | 'fifo-protected'
  | 'stdin-link'
  | 'zero-link';

/**
 * What the hostile student appends to the untouched skeleton's server.ts (worth 0): at load time it posts
 * "passed" verdicts on every channel, prints a fake grader JSON and closes stdout, writes into the compile
 * cache, and starts a detached process that would rewrite the gradebook after the batch.
 */
const HOSTILE_CODE = `
import * as hostileFs from 'node:fs';
import * as hostilePath from 'node:path';
const hostileTry = (f: () => void): void => { try { f(); } catch { /* refused */ } };
const hostileOutcome = (name: string) => ({ name, status: 'passed', seed: 0, realMs: 1, virtualMs: 1, rpcs: 1, ops: 1, traceHash: '', message: '', log: [] });
for (const [index, name] of [[0, 'TestReliablePut'], [1, 'TestReliableBasic']] as const) {
  hostileTry(() => require('node:worker_threads').parentPort?.postMessage({ type: 'done', index, outcome: hostileOutcome(name) }));
  for (const fd of [3, 4]) hostileTry(() => void hostileFs.writeSync(fd, JSON.stringify({ type: 'done', index, body: JSON.stringify(hostileOutcome(name)), mac: '0'.repeat(64) }) + '\\n'));
}
hostileTry(() => void hostileFs.writeSync(1, JSON.stringify({ score: 20, maxScore: 20, labs: [{ tests: [{ name: 'TestReliablePut', points: 10, status: 'passed', crash: null, message: '' }, { name: 'TestReliableBasic', points: 10, status: 'passed', crash: null, message: '' }] }] })));
hostileTry(() => hostileFs.closeSync(1));
hostileTry(() => hostileFs.writeFileSync(hostilePath.join(__dirname, '..', 'node_modules', '.cache', 'kvlabs-grader', 'forged-by-student.js'), 'module.exports = {};'));
hostileTry(() => {
  const gradebook = hostilePath.join(process.cwd(), '..', '..', 'gradebook.csv');
  const script = 'setTimeout(() => require("fs").writeFileSync(' + JSON.stringify(gradebook) + ', "forged"), 3000)';
  require('node:child_process').spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore' }).unref();
});
`;

/**
 * Writes one lab 2 repository per kind into `dir` (named after the kind), starting from `template`.
 * `mutant` is the partly correct student's bug.
 */
export function buildLab2Class(template: string, dir: string, kinds: readonly Kind[], mutant: Mutant): void {
  const files = ['server.ts', 'client.ts', 'lock.ts'];
  for (const kind of kinds) {
    const repo = path.join(dir, kind);
    copyTemplate(template, repo);
    const lab2 = path.join(repo, 'lab2');
    putSolution(repo, 'lab2', files, kind === 'mutant' ? mutant : undefined);
    const append = (file: string, text: string) => fs.appendFileSync(path.join(lab2, file), text);
    switch (kind) {
      case 'hanging':
        // The key/value part works, but acquiring a lock spins forever without yielding: only a time limit stops it.
        append(
          'lock.ts',
          '\nLock.prototype.acquire = function spin(): never {\n  for (;;) {\n    /* busy */\n  }\n};\n',
        );
        break;
      case 'syntax-error':
        append('client.ts', '\nexport const broken = {{;\n');
        break;
      case 'exits':
        append('lock.ts', '\nprocess.exit(7);\n');
        break;
      case 'tampered-test': {
        // No lock written, and the tests "fixed" to match: the suite giving the lock tests (part 3) no points. The
        // batch grades with the template's originals, so the edit does not change the score.
        fs.writeFileSync(path.join(lab2, 'lock.ts'), fs.readFileSync(path.join(template, 'lab2', 'lock.ts')));
        const suite = path.join(lab2, 'test', 'suite.ts');
        const text = fs.readFileSync(suite, 'utf8');
        fs.writeFileSync(suite, text.replace(/points: \d+, part: 3/g, 'points: 0, part: 3'));
        break;
      }
      case 'missing-file':
        fs.rmSync(path.join(lab2, 'lock.ts'));
        break;
      case 'hostile':
        // The skeleton (honestly worth 0), plus every forgery the batch must refuse.
        for (const f of files) fs.copyFileSync(path.join(template, 'lab2', f), path.join(lab2, f));
        append('server.ts', HOSTILE_CODE);
        break;
      case 'symlinked-lab':
        // A lab folder that is a link to a classmate's (the one graded as 'correct' beside it): worth nothing.
        fs.rmSync(lab2, { recursive: true });
        fs.symlinkSync(path.join('..', 'correct', 'lab2'), lab2, 'dir');
        break;
      case 'fifo-protected':
        // A correct lab whose given types are a FIFO: a read of it would wait for ever.
        fs.rmSync(path.join(lab2, 'rpc.ts'));
        execFileSync('mkfifo', [path.join(lab2, 'rpc.ts')]);
        break;
      case 'stdin-link':
        fs.rmSync(path.join(lab2, 'test', 'suite.ts'));
        fs.symlinkSync('/dev/stdin', path.join(lab2, 'test', 'suite.ts'));
        break;
      case 'zero-link':
        // A read of /dev/zero never ends: it would fill the batch's memory.
        fs.rmSync(path.join(repo, 'suite', 'index.ts'));
        fs.symlinkSync('/dev/zero', path.join(repo, 'suite', 'index.ts'));
        break;
      case 'helper-file':
        // A correct server split in two: the work is in a helper file of the student's own, server.ts re-exports it.
        fs.renameSync(path.join(lab2, 'server.ts'), path.join(lab2, 'kv-store.ts'));
        fs.writeFileSync(path.join(lab2, 'server.ts'), "export * from './kv-store';\n");
        break;
      default:
        break;
    }
  }
}
