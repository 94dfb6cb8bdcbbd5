/**
 * Batch grading, end to end on lab 2: a fixture class (correct, partly correct, hanging, crashing, exiting,
 * tampered, incomplete, split into helper files, hostile) graded row by row, graded in shards and merged, and the
 * batch's intake and folder names. A long check (npm run test:full): it grades whole classes.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import YAML from 'yaml';
import { readManifest } from '../../grader/manifest';
import { rubricOf } from '../../grader/rubric';
import type { TextSink } from '../../grader/types';
import { suite as lab2Suite } from '../../lab2/test/suite';
import { mutants } from '../../solutions/lab2/mutants';
import type { LabSuite } from '../../suite';
import { gradeBatch, labIntake, mergeGradebooks, studentFolders, studentLabFiles } from '../batch';
import { buildLab2Class } from '../class';
import type { GradebookRow } from '../gradebook';
import { KIT_ROOT, release } from '../release';

/** Lab 2's rubric, as the grader reads it off the suite. */
const RUBRIC = rubricOf(lab2Suite as LabSuite<unknown>, 'lab2/test/suite.ts');

/** A text sink that keeps what it was given. */
class Sink implements TextSink {
  text = '';
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

describe('instructor tools: batch grading', function () {
  this.timeout(300_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-batch-'));
  const tpl = path.join(work, 'template');

  before(async function () {
    this.timeout(120_000);
    // allowDirty: these tests grade the working tree as it is, committed or not.
    await release({ out: tpl, labs: ['lab2'], allowDirty: true });
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  describe('batch grading', () => {
    it('grades a class: correct, partly correct, hanging, crashing, exiting, tampered, incomplete, split-up and hostile submissions, and ones whose lab folder is a link to a classmate’s or whose protected files are a FIFO or links to /dev/stdin and /dev/zero, each row right', async function () {
      this.timeout(300_000);
      const cls = path.join(work, 'class');
      const mutant = mutants.find((m) => m.name === 'version-off-by-one');
      if (!mutant)
        throw new Error('lab 2 has no version-off-by-one mutant any more; pick another that TestReliablePut catches');
      buildLab2Class(
        tpl,
        cls,
        [
          'correct',
          'mutant',
          'hanging',
          'syntax-error',
          'exits',
          'tampered-test',
          'missing-file',
          'helper-file',
          'hostile',
          'symlinked-lab',
          'fifo-protected',
          'stdin-link',
          'zero-link',
        ],
        mutant,
      );
      fs.writeFileSync(path.join(cls, 'helper-file', 'lab2', 'rpc.js'), "module.exports = require('./rpc.ts');\n");
      // Red team: node loads lab2/load (no extension) before lab2/load.ts, in the grader's own process; this one
      // would leave a mark and claim every point in the --json document the batch reads.
      const ran = path.join(work, 'forger-ran');
      fs.writeFileSync(
        path.join(cls, 'mutant', 'lab2', 'load'),
        [
          `require('node:fs').writeFileSync(${JSON.stringify(ran)}, 'ran');`,
          'const write = process.stdout.write.bind(process.stdout);',
          'process.stdout.write = (chunk, ...rest) => write(String(chunk).replace(/"score": \\d+/g, \'"score": 99\'), ...rest);',
          "module.exports = require('./load.ts');",
          '',
        ].join('\n'),
      );
      expect(studentLabFiles(path.join(cls, 'helper-file'), 'lab2', readManifest(tpl)!)).to.deep.equal([
        'lab2/README.md',
        'lab2/client.ts',
        'lab2/kv-store.ts',
        'lab2/lock.ts',
        'lab2/server.ts',
      ]);
      const out = path.join(work, 'batch');
      const tests = ['TestReliablePut', 'TestReliableBasic'];
      // In the suite's order: the budget's cut below (the hang keeps the points earned before it) depends on it.
      const r = await gradeBatch({
        lab: 'lab2',
        submissions: cls,
        out,
        template: tpl,
        jobs: 2,
        tests,
        seed: 1234,
        timeoutSec: 55, // the grader's budget is 25 s: a cold compile cache on a loaded machine takes 15
        inOrder: true,
        log: new Sink(),
      });
      const row = (s: string) => r.rows.find((x) => x.student === s);
      const [P, B] = [RUBRIC.tests.TestReliablePut.points, RUBRIC.tests.TestReliableBasic.points];
      const brief = (s: string) => {
        const x = row(s);
        return x && [x.status, x.score, x.maxScore, x.tests.TestReliablePut, x.tests.TestReliableBasic];
      };
      expect(brief('correct'), JSON.stringify(row('correct'))).to.deep.equal(['graded', P + B, P + B, P, B]);
      expect(row('correct')?.notes).to.deep.equal([]);
      expect(row('correct')?.tampered).to.deep.equal([]);
      expect(brief('mutant')).to.deep.equal(['graded', B, P + B, 0, B]);
      expect(row('mutant')?.tampered).to.deep.equal(['lab2/load (added: would be loaded instead of lab2/load.ts)']);
      expect(fs.existsSync(ran), 'the extensionless lab2/load never ran').to.equal(false);
      expect(brief('hanging')).to.deep.equal(
        ['graded', P, P + B, P, 0],
        'the grader’s --budget ends the hang in time to keep the points already earned',
      );
      expect(row('hanging')?.notes).to.deep.equal(['TestReliableBasic: budget']);
      expect(brief('syntax-error')).to.deep.equal(['graded', 0, P + B, 0, 0]);
      expect(row('syntax-error')?.notes.join(' '), JSON.stringify(row('syntax-error')))
        .to.contain('could not be loaded')
        .and.contain('client.ts');
      expect(brief('tampered-test')).to.deep.equal(
        ['graded', P, P + B, P, 0],
        'graded with the original tests and their points',
      );
      expect(row('tampered-test')?.tampered).to.deep.equal(['lab2/test/suite.ts (changed)']);
      expect(brief('missing-file')).to.deep.equal(['graded', P, P + B, P, 0]);
      expect(row('missing-file')?.notes.join(' ')).to.contain('missing lab2/lock.ts');
      expect(brief('helper-file')).to.deep.equal(
        ['graded', P + B, P + B, P, B],
        'the student’s own lab2/kv-store.ts is graded with their server.ts',
      );
      expect(row('helper-file')?.tampered).to.deep.equal(
        ['lab2/rpc.js (added: would be loaded instead of lab2/rpc.ts)'],
        'the shadowing file is reported, not graded',
      );
      // A submission that is not made of plain files is refused where it is not, and nothing stalls the class.
      expect(labIntake(path.join(cls, 'symlinked-lab'), 'lab2', readManifest(tpl)!)).to.deep.equal({
        files: [],
        refused: ['lab2/ is a symbolic link, not a folder: refused, nothing in it was graded'],
      });
      expect(brief('symlinked-lab'), 'a link to a classmate’s lab earns nothing').to.deep.equal([
        'graded',
        0,
        P + B,
        0,
        0,
      ]);
      expect(row('symlinked-lab')?.notes).to.deep.equal([
        'lab2/ is a symbolic link, not a folder: refused, nothing in it was graded',
        'missing lab2/server.ts, lab2/client.ts and lab2/lock.ts (the skeleton was graded in its place)',
      ]);
      expect(row('symlinked-lab')?.tampered).to.include('lab2/rpc.ts (changed: lab2 is a symbolic link, not a file)');
      for (const [kind, file, what] of [
        ['fifo-protected', 'lab2/rpc.ts', 'a FIFO'],
        ['stdin-link', 'lab2/test/suite.ts', 'a symbolic link'],
        ['zero-link', 'suite/index.ts', 'a symbolic link'],
      ] as const) {
        expect(brief(kind), `${kind}: honest answers, full marks`).to.deep.equal(['graded', P + B, P + B, P, B]);
        expect(row(kind)?.tampered, kind).to.deep.equal([`${file} (changed: ${what}, not a file)`]);
      }
      expect(brief('exits')).to.deep.equal(['graded', 0, P + B, 0, 0], 'process.exit(7) costs only its own tests');
      // process.exit at the top of lock.ts: the sandbox has no process, so the code does not load (and says why).
      expect(row('exits')?.notes).to.have.length(1);
      expect(row('exits')?.notes?.[0]).to.match(/could not be loaded: ReferenceError: process is not available/);
      expect(brief('hostile')).to.deep.equal(
        ['graded', 0, P + B, 0, 0],
        'forged verdicts, a fake JSON on stdout and a closed stdout change nothing',
      );
      const cacheForgery = path.join(tpl, 'node_modules', '.cache', 'kvlabs-grader', 'forged-by-student.js');
      expect(fs.existsSync(cacheForgery), 'the compile cache is not writable to student code').to.equal(false);
      await new Promise((resolve) => setTimeout(resolve, 3500)); // a detached child would have rewritten the gradebook by now
      expect(fs.readFileSync(r.csv, 'utf8')).to.not.contain('forged');

      const csv = parseCsv(fs.readFileSync(r.csv, 'utf8')) as string[][];
      expect(csv[0]).to.deep.equal([
        'student',
        'score',
        'max',
        'TestReliablePut',
        'TestReliableBasic',
        'status',
        'tampered',
        'notes',
      ]);
      expect(csv.slice(1).map((c) => c.slice(0, 6))).to.deep.equal(
        r.rows.map((x) => [
          x.student,
          String(x.score),
          String(x.maxScore),
          String(x.tests.TestReliablePut ?? ''),
          String(x.tests.TestReliableBasic ?? ''),
          x.status,
        ]),
      );
      for (const x of r.rows) {
        expect(fs.existsSync(path.join(r.reports, x.student, 'grading.json')), x.student).to.equal(true);
        if (x.status === 'graded')
          expect(fs.existsSync(path.join(r.reports, x.student, 'lab2', 'index.html')), x.student).to.equal(true);
      }
      expect(fs.existsSync(path.join(out, 'work')), 'work folders are cleaned up').to.equal(false);
      expect(fs.existsSync(path.join(out, 'order.key')), 'in the suite’s order no key is made').to.equal(false);
    });

    it('grades a class in three shards whose merged gradebook equals the one-machine gradebook', async function () {
      this.timeout(240_000);
      const cls = path.join(work, 'class-shards');
      const mutant = mutants.find((m) => m.name === 'version-off-by-one')!;
      buildLab2Class(tpl, cls, ['correct', 'mutant', 'missing-file'], mutant);
      // A template never installed with npm ci: the batch links the kit's packages into it, and each work tree's
      // links must lead to the packages themselves (a link to a link is refused by the sandbox).
      const linkedTpl = path.join(work, 'template-not-installed');
      await release({ out: linkedTpl, labs: ['lab2'], allowDirty: true });
      const orderKey = 'ab'.repeat(32);
      const common = {
        lab: 'lab2',
        submissions: cls,
        template: linkedTpl,
        jobs: 2,
        tests: ['TestReliablePut'],
        seed: 99,
        timeoutSec: 55,
        orderKey,
        log: new Sink(),
      };
      const whole = await gradeBatch({ ...common, out: path.join(work, 'shards-whole') });
      // Three shards of three submissions, one each.
      const dirs = [1, 2, 3].map((k) => path.join(work, `shards-${k}`));
      for (const [i, out] of dirs.entries()) await gradeBatch({ ...common, out, shard: { index: i + 1, count: 3 } });
      expect(() => mergeGradebooks(dirs.slice(0, 2), path.join(work, 'shards-bad'))).to.throw(/shards 1, 2 of 3/);
      const merged = mergeGradebooks(dirs, path.join(work, 'shards-merged'));
      const noTime = (rows: readonly GradebookRow[]) => rows.map((r) => ({ ...r, realMs: 0 }));
      expect(noTime(merged.rows)).to.deep.equal(noTime(whole.rows));
      expect(merged.rows.map((r) => r.student)).to.deep.equal(['correct', 'missing-file', 'mutant']);
      expect(fs.readFileSync(path.join(work, 'shards-merged', 'gradebook.csv'), 'utf8')).to.equal(
        fs.readFileSync(whole.csv, 'utf8'),
      );
      for (const r of merged.rows)
        expect(
          fs.existsSync(path.join(work, 'shards-merged', 'reports', r.student, 'grading.json')),
          r.student,
        ).to.equal(true);
    });

    it('grades two students whose names make one safe folder name (`a same`, `a_same`) in two folders, each row saying where its reports are', async function () {
      this.timeout(240_000);
      const cls = path.join(work, 'class-same-folder');
      buildLab2Class(tpl, cls, ['correct'], mutants[0]);
      fs.cpSync(path.join(cls, 'correct'), path.join(cls, 'a same'), { recursive: true });
      fs.renameSync(path.join(cls, 'correct'), path.join(cls, 'a_same'));
      const r = await gradeBatch({
        lab: 'lab2',
        submissions: cls,
        out: path.join(work, 'batch-same-folder'),
        template: tpl,
        jobs: 2,
        tests: ['TestReliablePut'],
        seed: 7,
        timeoutSec: 55,
        inOrder: true,
        log: new Sink(),
      });
      const P = RUBRIC.tests.TestReliablePut.points;
      expect(
        r.rows.map((x) => [x.student, x.status, x.score]),
        JSON.stringify(r.rows),
      ).to.deep.equal([
        ['a same', 'graded', P],
        ['a_same', 'graded', P],
      ]);
      const folders = studentFolders(['a same', 'a_same']);
      expect(folders.get('a_same')).to.not.equal(folders.get('a same'));
      expect(folders.get('a_same')).to.equal('a_same');
      const spaced = folders.get('a same') ?? '';
      expect(r.rows.map((x) => x.notes)).to.deep.equal([
        [`reports in reports/${spaced} (the name is not a folder name that is safe and unique)`],
        [],
      ]);
      for (const x of r.rows)
        expect(fs.existsSync(path.join(r.reports, folders.get(x.student) ?? '', 'grading.json')), x.student).to.equal(
          true,
        );
    });

    it('the class-grading workflow grades 20 shards with one order key and merges them, every shard named in the merge', () => {
      const wf = YAML.parse(
        fs.readFileSync(path.join(KIT_ROOT, 'instructor', 'workflows', 'grade-class.yml'), 'utf8'),
      ) as {
        jobs: Record<
          string,
          { needs?: string; strategy?: { matrix: { shard: number[] } }; steps: Array<{ run?: string }> }
        >;
      };
      const shards = wf.jobs.grade.strategy?.matrix.shard ?? [];
      const grading = wf.jobs.grade.steps.map((st) => st.run ?? '').join('\n');
      expect(grading).to.contain(`--shard "\${{ matrix.shard }}/${shards.length}"`);
      expect(grading).to.contain('--order-key-file');
      expect(shards).to.deep.equal(Array.from({ length: shards.length }, (_, i) => i + 1));
      expect(wf.jobs.merge.needs).to.equal('grade');
      expect(wf.jobs.merge.steps.map((st) => st.run ?? '').join('\n')).to.contain(
        'grade-batch -- merge --out gradebook shard-*',
      );
    });

    it('by default runs each submission’s tests in an order drawn from a key it keeps in <out>/order.key, the same on a re-run', async function () {
      this.timeout(240_000);
      const mutant = mutants.find((m) => m.name === 'version-off-by-one');
      if (!mutant)
        throw new Error('lab 2 has no version-off-by-one mutant any more; pick another that TestReliablePut catches');
      const cls = path.join(work, 'class-shuffled');
      buildLab2Class(tpl, cls, ['correct', 'mutant'], mutant);
      const out = path.join(work, 'batch-shuffled');
      const tests = ['TestReliablePut', 'TestReliableBasic', 'TestPutWrongVersionReliable'];
      const once = async () => {
        const r = await gradeBatch({
          lab: 'lab2',
          submissions: cls,
          out,
          template: tpl,
          jobs: 2,
          tests,
          seed: 1234,
          log: new Sink(),
        });
        return r.rows.map((x) => [x.student, x.score, x.tests.TestReliablePut]);
      };
      const first = await once();
      const key = fs.readFileSync(path.join(out, 'order.key'), 'utf8').trim();
      expect(key).to.match(/^[0-9a-f]{64}$/);
      expect(fs.statSync(path.join(out, 'order.key')).mode & 0o077, 'only its owner may read the key').to.equal(0);
      const all = tests.reduce((a, t) => a + (RUBRIC.tests[t]?.points ?? 0), 0);
      expect(first).to.deep.equal(
        [
          ['correct', all, RUBRIC.tests.TestReliablePut.points],
          ['mutant', RUBRIC.tests.TestReliableBasic.points, 0],
        ],
        'the mutant fails TestReliablePut and TestPutWrongVersionReliable',
      );
      expect(await once()).to.deep.equal(first);
      expect(fs.readFileSync(path.join(out, 'order.key'), 'utf8').trim(), 'a re-run keeps the key').to.equal(key);
    });
  });
});
