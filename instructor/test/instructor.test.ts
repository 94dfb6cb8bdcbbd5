/**
 * The instructor tools, end to end on lab 2: the released template holds no solution, its Classroom workflow has
 * the shape Classroom reads, the release refuses an uncommitted kit and writes a README true to the labs shipped,
 * the grader refuses a tampered tree (changed or harmful added files) in Classroom, and batch grading scores a
 * fixture class (correct, partly correct, hanging, crashing, exiting, tampered, incomplete, split into helper files)
 * row by row. The template after a real `npm ci`, and its workflow's steps run for real, are in
 * template-run.full.test.ts.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../grader/cli';
import { checkTree, compareManifest, readManifest } from '../../grader/manifest';
import type { TextSink } from '../../grader/types';
import { studentFolders, timeLeft } from '../batch';
import { dirtyShippedFiles, parsePorcelain } from '../dirty';
import { parse as parseCsv } from 'csv-parse/sync';
import { gradebookCsv } from '../gradebook';
import { distinctiveSolutionLines, scanTemplate } from '../leaks';
import { studentReadme } from '../readme';
import { KIT_ROOT, release, ReleaseResult } from '../release';
import {
  globToRegExp,
  INSTRUCTOR_DEPENDENCIES,
  isShipped,
  scrubComments,
  shippedFiles,
  shippedFolders,
} from '../template';
import {
  ACTIONS,
  classroomWorkflow,
  DEPENDABOT_PATH,
  parseYaml,
  POINTS_COMMAND,
  toYaml,
  WORKFLOW_NODE,
  WORKFLOW_PATH,
  YamlValue,
} from '../workflow';
import { copyTemplate } from '../class';
import { runnerName } from '../../grader/reports/classroom';
import { describeFindings, lintWorkflow } from '../workflow-lint';
import {
  LAB2_FILES,
  LAB2_TESTS,
  linkTemplateModules,
  localEnv,
  RUBRIC,
  run,
  stepsOf,
  workflowOf,
} from './template-run';

/** Every file under `dir` (relative), leaving out node_modules and .git. */
function filesUnder(dir: string, prefix = ''): string[] {
  return fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === '.git' ? [] : filesUnder(dir, rel);
    return e.isFile() ? [rel] : [];
  });
}

/** The payload a `result=<base64>` line in a GITHUB_OUTPUT file carries. */
function payloadIn(outputFile: string): {
  status: string;
  max_score: number;
  tests: Array<{ name: string; status: string; score: number; message: string | null }>;
} {
  const line = fs
    .readFileSync(outputFile, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('result='));
  expect(line, `no result= line in ${outputFile}`).to.be.a('string');
  return JSON.parse(Buffer.from((line ?? '').slice('result='.length), 'base64').toString('utf8'));
}

class Sink implements TextSink {
  text = '';
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

describe('instructor tools', function () {
  this.timeout(120_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-instructor-'));
  const tpl = path.join(work, 'template');
  let released: ReleaseResult;

  before(async function () {
    this.timeout(60_000);
    // allowDirty: these tests check the working tree as it is, committed or not (the clean-tree check has its own test).
    released = await release({ out: tpl, labs: ['lab2'], allowDirty: true });
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  describe('release', () => {
    it('ships no solution: no solutions folder, no "solutions/" in any file, no distinctive line of a solution', () => {
      const files = filesUnder(tpl);
      expect(files).to.have.members([...released.files]);
      for (const f of files) {
        expect(f, f).not.to.match(
          /(^|\/)solutions\/|\/test\/kit\/|^bench\/|^instructor\/|^scripts\/demo\.ts$|^grader\/test\/|\.mutant-/,
        );
        expect(fs.readFileSync(path.join(tpl, f), 'utf8'), `${f} names the solutions folder`).not.to.contain(
          'solutions/',
        );
      }
      const distinctive = distinctiveSolutionLines(KIT_ROOT);
      expect(distinctive.size, 'the solutions have distinctive lines to look for').to.be.greaterThan(20);
      const shippedLines = new Set(
        files.flatMap((f) =>
          fs
            .readFileSync(path.join(tpl, f), 'utf8')
            .split('\n')
            .map((l) => l.trim()),
        ),
      );
      for (const [line, from] of distinctive)
        expect(shippedLines.has(line), `a line of ${from} ships: ${line}`).to.equal(false);
      for (const f of LAB2_FILES)
        expect(fs.readFileSync(path.join(tpl, 'lab2', f), 'utf8'), `lab2/${f} is the skeleton`).to.equal(
          fs.readFileSync(path.join(KIT_ROOT, 'lab2', f), 'utf8'),
        );
    });

    it('the leak scan catches a planted solution line and an import of the solutions', () => {
      const distinctive = distinctiveSolutionLines(KIT_ROOT);
      const [line, from] = [...distinctive][0];
      const planted = path.join(work, 'planted');
      fs.mkdirSync(planted, { recursive: true });
      fs.writeFileSync(path.join(planted, 'a.ts'), `// ok\n    ${line}\n`);
      fs.writeFileSync(path.join(planted, 'b.ts'), "import { Clerk } from '../solutions/lab2/client';\n");
      const found = scanTemplate(planted, ['a.ts', 'b.ts'], distinctive);
      expect(found.map((f) => [f.file, f.kind])).to.deep.equal([
        ['a.ts', 'leak'],
        ['b.ts', 'leak'],
      ]);
      expect(found[0].why).to.contain(from);
    });

    it('releases every lab without a leak; code that still names the solutions folder is only in lab tools', async () => {
      const all = await release({ out: path.join(work, 'all-labs'), allowDirty: true });
      expect(all.labs.length).to.be.greaterThan(1);
      expect(all.labs).to.include('lab2');
      for (const m of all.mentions) expect(m.file, `${m.file}:${m.line} ${m.text}`).to.match(/^lab\d+\/tools\//);
    });

    it('drops the instructors’ scripts; package.json, lockfile and tsconfig fit what ships, and no kit test ships', () => {
      const kitPkg = JSON.parse(fs.readFileSync(path.join(KIT_ROOT, 'package.json'), 'utf8')) as Record<
        string,
        Record<string, string>
      >;
      const pkg = JSON.parse(fs.readFileSync(path.join(tpl, 'package.json'), 'utf8')) as Record<
        string,
        Record<string, string>
      >;
      expect(Object.keys(pkg.scripts)).to.include.members(['grade', 'typecheck', 'test']);
      expect(pkg.scripts.test, "a student's npm test type-checks: no lint, no format check, no kit tests").to.equal(
        'npm run typecheck',
      );
      for (const s of ['verify', 'bench', 'release', 'grade-batch', 'demo'])
        expect(pkg.scripts, s).not.to.have.property(s);
      for (const [name, body] of Object.entries(pkg.scripts)) {
        expect(body, name).not.to.match(/solutions|instructor\/|bench\/|scripts\/demo|lab[13-9]/);
      }
      expect(pkg.dependencies).to.deep.equal(kitPkg.dependencies);
      const instructorOnly: readonly string[] = INSTRUCTOR_DEPENDENCIES;
      for (const name of instructorOnly) expect(kitPkg.devDependencies, 'the kit has it').to.have.property(name);
      const shippedDev = Object.fromEntries(
        Object.entries(kitPkg.devDependencies).filter(([name]) => !instructorOnly.includes(name)),
      );
      expect(
        pkg.devDependencies,
        'every package but the instructors’ (StrykerJS, YAML, CSV, ESLint, Prettier, the browser driver, node-redis)',
      ).to.deep.equal(shippedDev);
      const lock = JSON.parse(fs.readFileSync(path.join(tpl, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { devDependencies?: object }>;
      };
      expect(lock.packages[''].devDependencies, 'the lockfile agrees with package.json').to.deep.equal(shippedDev);
      expect(
        Object.keys(lock.packages).filter((k) =>
          /stryker|node_modules\/(yaml|csv-stringify|csv-parse|eslint|prettier|typescript-eslint|puppeteer-core|redis)$/.test(
            k,
          ),
        ),
      ).to.deep.equal([]);

      const tsconfig = JSON.parse(fs.readFileSync(path.join(tpl, 'tsconfig.json'), 'utf8')) as {
        include: string[];
        compilerOptions: Record<string, unknown>;
      };
      expect(tsconfig.compilerOptions.erasableSyntaxOnly, "the template's code stays erasable, as the kit's").to.equal(
        true,
      );
      const tsTops = new Set(
        released.files.filter((f) => f.endsWith('.ts') && f.includes('/')).map((f) => f.split('/')[0]),
      );
      expect([...tsconfig.include].sort()).to.deep.equal([...tsTops].sort());
      expect(released.files.filter((f) => f.endsWith('.test.ts'))).to.deep.equal([]);
      expect(fs.existsSync(path.join(tpl, '.mocharc.json'))).to.equal(false);

      const readme = fs.readFileSync(path.join(tpl, 'README.md'), 'utf8');
      expect(readme)
        .to.contain('npm run grade lab2')
        .and.contain('--seed')
        .and.contain('lab2/lock.ts')
        .and.contain('.kvlabs/manifest.json');
    });

    it('the README promises exact replay only for simulated tests: lab 2 explains seeds, lab 5 (real time) does not', async () => {
      const flat = (text: string) => text.replace(/\s+/g, ' ');
      const lab2 = flat(fs.readFileSync(path.join(tpl, 'README.md'), 'utf8'));
      expect(lab2)
        .to.contain('--seed 12345')
        .and.contain('replay one run exactly')
        .and.contain('can be replayed exactly')
        .and.contain('the very same run again');
      expect(lab2).to.contain('virtual and seeded').and.not.contain('real time');

      const lab5 = await release({ out: path.join(work, 'lab5-only'), labs: ['lab5'], allowDirty: true });
      const readme = flat(fs.readFileSync(path.join(lab5.out, 'README.md'), 'utf8'));
      expect(readme)
        .to.contain('npm run grade lab5')
        .and.contain('real sockets, in real time')
        .and.contain('does not replay exactly');
      for (const promise of [
        '--seed',
        'replay one run exactly',
        'can be replayed exactly',
        'very same run',
        'simulated',
        'virtual and seeded',
      ]) {
        expect(readme, `the lab 5 README says "${promise}"`).not.to.contain(promise);
      }

      const lab4 = flat(
        studentReadme([
          {
            lab: 'lab4',
            title: 'Lab 4',
            implFiles: ['server.ts'],
            firstTest: 'TestLeaderAcceptsWrites',
            realTimeTests: ['TestRealHttp'],
            testCount: 11,
          },
        ]),
      );
      expect(lab4)
        .to.contain('--test TestLeaderAcceptsWrites --seed 12345')
        .and.contain("lab4's `TestRealHttp`")
        .and.contain('does not replay exactly');
    });

    it('refuses to release shipped files that are not committed (exit 2, the files named), unless --allow-dirty', function () {
      this.timeout(180_000);
      const clone = path.join(work, 'kit-clone');
      const git = (...args: string[]) =>
        run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args], clone);
      const cloned = run('git', ['clone', '-q', KIT_ROOT, clone], work);
      expect(cloned.status, cloned.stderr).to.equal(0);
      fs.symlinkSync(path.join(KIT_ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
      fs.appendFileSync(path.join(clone, 'lab2', 'rpc.ts'), '\n// not committed\n');
      fs.writeFileSync(path.join(clone, 'lab2', 'helper.ts'), 'export const helper = 1;\n');
      fs.writeFileSync(path.join(clone, 'solutions', 'scratch.ts'), '// never ships, so it does not matter\n');
      const releaseCli = (out: string, ...extra: string[]) =>
        run(
          process.execPath,
          [
            '-r',
            './grader/register.js',
            'instructor/release.ts',
            '--out',
            out,
            '--labs',
            'lab2',
            '--repo',
            clone,
            ...extra,
          ],
          KIT_ROOT,
          localEnv(),
          120_000,
        );

      const refused = releaseCli(path.join(work, 'dirty-out'));
      expect(refused.status, refused.stdout + refused.stderr).to.equal(2);
      expect(refused.stderr)
        .to.contain('lab2/helper.ts (untracked)')
        .and.contain('lab2/rpc.ts (modified)')
        .and.contain('Commit')
        .and.contain('--allow-dirty');
      expect(refused.stderr).not.to.contain('scratch.ts');
      expect(fs.existsSync(path.join(work, 'dirty-out')), 'nothing written').to.equal(false);

      const allowed = releaseCli(path.join(work, 'dirty-out'), '--allow-dirty');
      expect(allowed.status, allowed.stderr).to.equal(0);
      expect(allowed.stdout).to.contain('--allow-dirty').and.contain('lab2/rpc.ts (modified)');
      expect(fs.readFileSync(path.join(work, 'dirty-out', 'lab2', 'rpc.ts'), 'utf8')).to.contain('// not committed');

      expect(git('add', 'lab2').status).to.equal(0);
      expect(git('commit', '-q', '-m', 'helper').status).to.equal(0);
      const clean = releaseCli(path.join(work, 'clean-out'));
      expect(clean.status, clean.stderr).to.equal(0);
      expect(clean.stdout).not.to.contain('Note (--allow-dirty)');
      expect(parsePorcelain('R  new.ts\0old.ts\0?? a b.ts\0 M x.ts\0')).to.deep.equal([
        { status: 'R ', path: 'new.ts' },
        { status: 'R ', path: 'old.ts' },
        { status: '??', path: 'a b.ts' },
        { status: ' M', path: 'x.ts' },
      ]);
    });

    it('protects tests, the framework, given files, package files and the workflow — not the student’s files', () => {
      const manifest = readManifest(tpl);
      expect(manifest).to.not.equal(undefined);
      const prot = Object.keys(manifest?.files ?? {});
      for (const f of [
        'lab2/test/suite.ts',
        'lab2/test/harness.ts',
        'lab2/rpc.ts',
        'lab2/with-lock.ts',
        'suite/types.ts',
        'world/world.ts',
        'checker/index.ts',
        'grader/cli.ts',
        'grader/manifest.ts',
        'labrpc/network.ts',
        'package.json',
        'package-lock.json',
        'tsconfig.json',
        WORKFLOW_PATH,
      ]) {
        expect(prot, f).to.include(f);
      }
      for (const f of [
        'lab2/server.ts',
        'lab2/client.ts',
        'lab2/lock.ts',
        'README.md',
        'lab2/README.md',
        '.kvlabs/manifest.json',
      ])
        expect(prot, f).not.to.include(f);
      expect(compareManifest(tpl, manifest!)).to.deep.equal([]);
      expect(checkTree(KIT_ROOT)).to.deep.equal(
        { manifest: false },
        'the kit itself has no manifest, so nothing is checked there',
      );
    });
  });

  describe('GitHub Classroom workflow', () => {
    const workflow = (): Record<string, YamlValue> => workflowOf(tpl);
    const lab2Tests = LAB2_TESTS;
    const runnersOf = (tests: ReadonlyArray<{ name: string }>, lab = 'lab2') =>
      tests.map((t) => runnerName(lab, t.name));

    it('pins every action by the commit of a release, names the release beside it, and ships a Dependabot configuration for them', () => {
      const text = fs.readFileSync(path.join(tpl, WORKFLOW_PATH), 'utf8');
      const uses = [...text.matchAll(/uses: (\S+)(.*)$/gm)];
      expect(uses.length).to.be.at.least(3);
      for (const [, action, comment] of uses) {
        expect(action, 'pinned by a full commit').to.match(/@[0-9a-f]{40}$/);
        expect(comment).to.match(/^ # v\d+(\.\d+\.\d+)?$/);
      }
      expect(parseYaml(fs.readFileSync(path.join(tpl, DEPENDABOT_PATH), 'utf8'))).to.deep.include({ version: 2 });
      // No step runs on the retired Node 20: the v4 actions did, and so does Classroom's reporter action (v1).
      for (const a of Object.values(ACTIONS)) expect(a.release).to.not.equal('v4');
      expect(text).to.not.contain('autograding-grading-reporter');
    });

    it('passes actionlint (keys, types, expressions, the step outputs they read), as does the class-grading workflow; a broken one does not', async () => {
      const text = fs.readFileSync(path.join(tpl, WORKFLOW_PATH), 'utf8');
      expect(describeFindings(await lintWorkflow(text, WORKFLOW_PATH))).to.equal('');
      const classWorkflow = path.join(__dirname, '..', 'workflows', 'grade-class.yml');
      expect(describeFindings(await lintWorkflow(fs.readFileSync(classWorkflow, 'utf8'), 'grade-class.yml'))).to.equal(
        '',
      );
      // A runner reading a step that is not there, and a misspelt key: both are caught.
      const broken = text
        .replace('steps.lab2.outputs.', 'steps.lab3.outputs.')
        .replace('timeout-minutes:', 'timeout-minute:');
      const findings = await lintWorkflow(broken, WORKFLOW_PATH);
      expect(findings.map((f) => f.kind)).to.include.members(['expression', 'syntax-check']);
    });

    it('has Classroom’s shape: the job, permissions, checkout, the current Node LTS, npm ci, one grader step per lab, the reports uploaded, the points step with one runner per test', () => {
      const wf = workflow();
      expect(wf).to.deep.equal(classroomWorkflow([{ lab: 'lab2', tests: lab2Tests }]));
      expect(wf.permissions).to.deep.equal({ checks: 'write', actions: 'read', contents: 'read' });
      expect(Object.keys(wf.jobs as object)).to.deep.equal(['run-autograding-tests']);
      const steps = stepsOf(wf);
      expect(steps[0].uses).to.match(/^actions\/checkout@/);
      expect(steps[1].uses).to.match(/^actions\/setup-node@/);
      expect(steps[1].with).to.deep.equal({ 'node-version': WORKFLOW_NODE, cache: 'npm' });
      expect(Number(WORKFLOW_NODE), 'Node 20 reached its end of life in April 2026').to.be.at.least(24);
      expect(steps[2].run).to.equal('npm ci');
      const graders = steps.filter((s) => s.run?.includes('npm run grade'));
      expect(graders.map((s) => [s.id, s.run])).to.deep.equal([
        ['lab2', 'npm run grade lab2 -- --classroom --no-color --budget 810'],
      ]);
      expect(810, 'the grader stops before the step is killed, so partial credit is reported').to.be.lessThan(
        Number(graders[0]['timeout-minutes']) * 60,
      );
      const upload = steps[steps.length - 2];
      expect([upload.uses, upload.if, upload.with?.path]).to.deep.equal([
        ACTIONS.uploadArtifact.uses,
        'always()',
        'reports/',
      ]);
      const points = steps[steps.length - 1];
      expect([points.run, points.if]).to.deep.equal([POINTS_COMMAND, 'always()']);
      expect(points.env?.RUNNERS).to.equal(runnersOf(lab2Tests).join(','));
      for (const r of runnersOf(lab2Tests))
        expect(r, 'a runner names a step output and a variable: letters and digits only').to.match(/^[a-zA-Z0-9]+$/);
      expect(Object.keys(points.env ?? {})).to.deep.equal([
        'RUNNERS',
        ...runnersOf(lab2Tests).map((r) => `${r.toUpperCase()}_RESULTS`),
      ]);
      const all = classroomWorkflow([
        {
          lab: 'lab1',
          tests: [
            { name: 'TestA', points: 60 },
            { name: 'TestB', points: 40 },
          ],
        },
        { lab: 'lab5', tests: [{ name: 'TestA', points: 100 }] },
      ]);
      const last = stepsOf(all)[stepsOf(all).length - 1];
      expect(last.env?.RUNNERS).to.equal('lab1A,lab1B,lab5A');
      expect(Object.keys(last.env ?? {})).to.deep.equal(['RUNNERS', 'LAB1A_RESULTS', 'LAB1B_RESULTS', 'LAB5A_RESULTS']);
    });
  });

  describe('tamper check', () => {
    let copy: string;
    before(() => {
      copy = path.join(work, 'tampered');
      copyTemplate(tpl, copy);
      linkTemplateModules(copy, tpl);
      fs.appendFileSync(path.join(copy, 'lab2', 'test', 'suite.ts'), '\n// made easier\n');
    });
    const cli = async (args: string[], env: Record<string, string>) => {
      const stdout = new Sink();
      const stderr = new Sink();
      const code = await runCli(args, { stdout, stderr, env: { KVLABS_LAB_ROOT: copy, NO_COLOR: '1', ...env } });
      return { code, stdout: stdout.text, stderr: stderr.text };
    };

    it('in Classroom the grader refuses a changed test file: exit 2, the file named, a payload scoring 0 with the reason', async () => {
      const out = path.join(work, 'tamper-output');
      fs.writeFileSync(out, '');
      const r = await cli(
        ['lab2', '--classroom', '--test', 'TestReliablePut', '--report', path.join(work, 'tamper-reports')],
        { GITHUB_OUTPUT: out },
      );
      expect(r.code).to.equal(2);
      expect(r.stderr).to.contain('lab2/test/suite.ts (changed)');
      const payload = payloadIn(out);
      // The changed suite never runs in the grader (its points would be the student's to choose), so no maximum is read.
      expect([
        payload.status,
        payload.max_score,
        payload.tests.length,
        payload.tests[0].score,
        payload.tests[0].status,
      ]).to.deep.equal(['fail', 0, 1, 0, 'error']);
      expect(payload.tests[0].message).to.contain('lab2/test/suite.ts');
      const actions = await cli(['lab2', '--test', 'TestReliablePut'], { GITHUB_ACTIONS: 'true' });
      expect(actions.code, 'GITHUB_ACTIONS=true is strict too').to.equal(2);
      const batch = await cli(['lab2', '--strict-manifest', '--test', 'TestReliablePut'], {});
      expect(batch.code, '--strict-manifest (batch mode) is strict').to.equal(2);
    });

    it('refuses in Classroom even when the changed suite no longer loads', async () => {
      const broken = path.join(work, 'tampered-broken');
      copyTemplate(tpl, broken);
      fs.appendFileSync(path.join(broken, 'lab2', 'test', 'suite.ts'), '\nexport const = ;\n');
      const out = path.join(work, 'tamper-output-broken');
      fs.writeFileSync(out, '');
      const stderr = new Sink();
      const code = await runCli(['lab2', '--classroom'], {
        stdout: new Sink(),
        stderr,
        env: { KVLABS_LAB_ROOT: broken, GITHUB_OUTPUT: out, NO_COLOR: '1' },
      });
      expect(code).to.equal(2);
      expect(stderr.text).to.contain('lab2/test/suite.ts (changed)');
      expect(payloadIn(out).tests[0].score).to.equal(0);
    });

    it('in Classroom it refuses added files that replace protected code (a shadowing .js, a file named as a given module without its extension, a file in a protected folder) and runs none of them, even to write its refusal', async () => {
      const added = path.join(work, 'tampered-added');
      copyTemplate(tpl, added);
      linkTemplateModules(added, tpl);
      // Each still loads the original, so only the check can tell; each leaves a mark if node ever runs it.
      const ran = path.join(work, 'tampered-added-ran');
      const marking = (file: string, original: string) =>
        fs.writeFileSync(
          path.join(added, file),
          `require('node:fs').appendFileSync(${JSON.stringify(ran)}, ${JSON.stringify(file + '\n')});\nmodule.exports = require('./${original}');\n`,
        );
      marking('lab2/rpc.js', 'rpc.ts');
      marking('lab2/load', 'load.ts'); // red team: node loads lab2/load before it tries lab2/load.ts
      fs.writeFileSync(path.join(added, 'suite', 'index.js'), "module.exports = require('./index.ts');\n");
      fs.writeFileSync(path.join(added, 'labrpc', 'fast-path.ts'), 'export const fast = true;\n');
      const grade = async (env: Record<string, string>, ...extra: string[]) => {
        const stderr = new Sink();
        const code = await runCli(
          ['lab2', '--test', 'TestReliablePut', '--report', path.join(work, 'tamper-reports'), ...extra],
          { stdout: new Sink(), stderr, env: { KVLABS_LAB_ROOT: added, NO_COLOR: '1', ...env } },
        );
        return { code, stderr: stderr.text };
      };
      const output = path.join(work, 'tampered-added-output');
      const r = await grade({ GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: output }, '--classroom');
      expect(r.code).to.equal(2);
      expect(r.stderr)
        .to.contain('lab2/rpc.js (added: would be loaded instead of lab2/rpc.ts)')
        .and.contain('lab2/load (added: would be loaded instead of lab2/load.ts)')
        .and.contain('suite/index.js (added: would be loaded instead of suite/index.ts)')
        .and.contain('labrpc/fast-path.ts (added: new file in the protected folder labrpc/)')
        .and.contain('Delete the added files');
      expect(payloadIn(output).tests.every((t) => t.score === 0)).to.equal(true);
      expect(fs.existsSync(ran), 'no added file ran in the grader').to.equal(false);
      const local = await grade({});
      expect(local.code, 'locally it grades anyway (the skeleton fails)').to.equal(1);
      expect(local.stderr).to.contain('Warning:').and.contain('lab2/rpc.js (added');
    });

    it('in Classroom and batch grading the test processes, too, load from the tree only the files the manifest lists (red team: on node 22 and later a lab5/package.json naming itself ioredis sent the sandbox’s import of it to a student file)', () => {
      const copy = path.join(work, 'worker-guard');
      copyTemplate(tpl, copy);
      linkTemplateModules(copy, tpl);
      fs.writeFileSync(path.join(copy, 'lab2', 'shim.js'), 'module.exports = "student";\n');
      // The preload every process the grader starts for a test runs first (grader/ts-preload.js).
      const load = (strict: boolean) =>
        run(
          process.execPath,
          ['-r', path.join(copy, 'grader', 'ts-preload.js'), '-e', "process.stdout.write(require('./lab2/shim.js'))"],
          copy,
          { ...localEnv(), ...(strict ? { KVLABS_KIT_MANIFEST: '1' } : {}) },
        );
      const plain = load(false);
      expect(plain.stdout, plain.stderr).to.equal('student');
      const strict = load(true);
      expect(strict.status).to.not.equal(0);
      expect(strict.stderr).to.contain("refuses to load lab2/shim.js as part of the kit: the template's manifest");
      expect(
        fs.readFileSync(path.join(copy, 'grader', 'worker-boot.js'), 'utf8'),
        'the test process itself turns the same check on',
      ).to.contain("process.env.KVLABS_KIT_MANIFEST === '1'");
    });

    describe('in a template of labs 3 and 5', () => {
      let tpl35: string;
      before(async function () {
        this.timeout(60_000);
        tpl35 = (await release({ out: path.join(work, 'template-35'), labs: ['lab3', 'lab5'], allowDirty: true })).out;
      });

      it('refuses lab5/glob.js next to the given lab5/glob.ts', async () => {
        const copy = path.join(work, 'tampered-glob');
        copyTemplate(tpl35, copy);
        fs.writeFileSync(path.join(copy, 'lab5', 'glob.js'), 'module.exports = { globMatch: () => true };\n');
        const stderr = new Sink();
        const code = await runCli(['lab5'], {
          stdout: new Sink(),
          stderr,
          env: { KVLABS_LAB_ROOT: copy, GITHUB_ACTIONS: 'true', NO_COLOR: '1' },
        });
        expect(code).to.equal(2);
        expect(stderr.text).to.contain('lab5/glob.js (added: would be loaded instead of lab5/glob.ts)');
      });

      it('grades a student’s own helper, lab3/broadcast.ts imported by their server.ts, with no complaint', async () => {
        const copy = path.join(work, 'own-helper');
        copyTemplate(tpl35, copy);
        linkTemplateModules(copy, tpl35);
        fs.writeFileSync(path.join(copy, 'lab3', 'broadcast.ts'), 'export function broadcast(): void {}\n');
        fs.appendFileSync(path.join(copy, 'lab3', 'server.ts'), "\nexport { broadcast } from './broadcast';\n");
        expect(checkTree(copy)).to.deep.equal({ manifest: true, tampered: [] });
        const stderr = new Sink();
        const code = await runCli(['lab3', '--test', 'TestBasic', '--report', path.join(work, 'own-helper-reports')], {
          stdout: new Sink(),
          stderr,
          env: { KVLABS_LAB_ROOT: copy, GITHUB_ACTIONS: 'true', NO_COLOR: '1' },
        });
        expect(code, 'graded (the skeleton fails its test), not refused').to.equal(1);
        expect(stderr.text).not.to.contain('added').and.not.to.contain('Warning');
      });
    });

    it('on a student’s machine it warns, names the file, and grades anyway', async () => {
      const r = await cli(
        ['lab2', '--test', 'TestReliablePut', '--json', '--report', path.join(work, 'tamper-reports')],
        {},
      );
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain('Warning:').and.contain('lab2/test/suite.ts (changed)');
      expect((JSON.parse(r.stdout) as { maxScore: number }).maxScore).to.equal(RUBRIC.tests.TestReliablePut.points);
    });
  });

  describe('small pieces', () => {
    it('the clean-tree check finds changed shipped files when the kit is a folder inside a larger repository', () => {
      const outer = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-outer-'));
      try {
        const kit = path.join(outer, 'course', 'kit');
        fs.mkdirSync(path.join(kit, 'lab2'), { recursive: true });
        fs.writeFileSync(path.join(kit, 'lab2', 'rpc.ts'), 'export {};\n');
        fs.writeFileSync(path.join(outer, 'notes.txt'), 'not the kit\n');
        const git = (...args: string[]) =>
          expect(run('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], outer).status).to.equal(
            0,
          );
        git('init', '-q');
        git('add', '-A');
        git('commit', '-qm', 'start');
        fs.appendFileSync(path.join(kit, 'lab2', 'rpc.ts'), '// changed\n');
        fs.writeFileSync(path.join(kit, 'lab2', 'extra.ts'), 'export {};\n');
        fs.appendFileSync(path.join(outer, 'notes.txt'), 'changed outside the kit\n');
        expect(dirtyShippedFiles(kit, ['lab2'])).to.deep.equal([
          { status: '??', path: 'lab2/extra.ts' },
          { status: ' M', path: 'lab2/rpc.ts' },
        ]);
      } finally {
        fs.rmSync(outer, { recursive: true, force: true });
      }
    });

    it('the YAML writer and reader agree, quoting what YAML would misread', () => {
      const value: YamlValue = {
        on: ['push', 'yes'],
        'a key': { n: 3, s: '3', b: true, t: 'true', expr: '${{ x }}', colon: 'a: b', empty: '', q: 'say "hi"' },
        list: [{ x: 'y', z: ['1', 2] }, 'plain'],
      };
      const text = toYaml(value);
      expect(text).to.contain('"on":').and.contain('- "yes"');
      expect(parseYaml(text)).to.deep.equal(value);
      expect(() => parseYaml('a:\n  b: 1\n c: 2\n')).to.throw(/line 3/);
    });

    it('batch folders: a safe unique name is its own folder; names that clash, even only in case, get their own', () => {
      const f = studentFolders(['alice', 'Bob', 'bob', 'a same', 'a_same', '..', 'a/b']);
      expect([f.get('alice'), f.get('a_same')]).to.deep.equal(['alice', 'a_same']);
      expect(new Set(f.values()).size).to.equal(7);
      expect(new Set([...f.values()].map((v) => v.toLowerCase())).size).to.equal(7);
      for (const [s, v] of f) {
        if (s !== 'alice' && s !== 'a_same') expect(v, s).to.match(/^[A-Za-z0-9._@-]+-[0-9a-f]{8}$/);
      }
      const crafted = f.get('a same') ?? '';
      expect(() => studentFolders(['a same', crafted])).to.throw(/would be graded in one folder/);
    });

    it('the batch log estimates the time left from the pace so far', () => {
      expect(timeLeft(30_000, 3, 10)).to.equal('  (about 70 s left)');
      expect(timeLeft(600_000, 10, 40)).to.equal('  (about 30 min left)');
      expect(timeLeft(5_000, 4, 4)).to.equal('');
    });

    it('CSV fields with commas, quotes and newlines survive a round trip', () => {
      const rows = [
        {
          student: 'x,"y"',
          status: 'graded' as const,
          score: 1,
          maxScore: 2,
          tests: { T: 1 },
          tampered: ['a (changed)', 'b (missing)'],
          notes: ['line1\nline2'],
          realMs: 0,
        },
      ];
      const parsed = parseCsv(gradebookCsv(rows, ['T', 'U'])) as string[][];
      expect(gradebookCsv(rows, ['T', 'U'])).to.contain('"x,""y"""');
      expect(parsed).to.deep.equal([
        ['student', 'score', 'max', 'T', 'U', 'status', 'tampered', 'notes'],
        ['x,"y"', '1', '2', '1', '', 'graded', 'a (changed); b (missing)', 'line1\nline2'],
      ]);
    });

    it('no gradebook field reads as a spreadsheet formula: one that starts with =, +, - or @ gets a leading quote', () => {
      const row = {
        student: '=HYPERLINK("http://x")',
        status: 'error' as const,
        score: 0,
        maxScore: 2,
        tests: {},
        tampered: ['@SUM(A1)'],
        notes: ['-1+2'],
        realMs: 0,
      };
      const parsed = parseCsv(gradebookCsv([row], [])) as string[][];
      expect(parsed[1]).to.deep.equal(['\'=HYPERLINK("http://x")', '0', '2', 'error', "'@SUM(A1)", "'-1+2"]);
    });

    it('what ships: a lab and the framework folders it uses, whole; solutions, instructor tools and other labs stay home', () => {
      const lab2 = shippedFiles(KIT_ROOT, ['lab2']);
      const lab4 = shippedFiles(KIT_ROOT, ['lab4']);
      for (const f of [
        'lab2/test/suite.ts',
        'lab2/client.ts',
        'grader/reports/html.ts',
        'grader/cli.ts',
        'labrpc/index.ts',
      ])
        expect(lab2, f).to.include(f);
      expect(lab2.filter((f) => f.startsWith('world/')).length).to.be.greaterThan(0);
      expect(lab2.filter((f) => f.startsWith('checker/')).length).to.be.greaterThan(0);
      for (const f of lab2)
        expect(f, 'a lab 2 template carries only lab 2 and the framework').to.match(
          /^(lab2|labrpc|world|checker|suite|grader)\//,
        );
      // lab 2 uses no HTTP; lab 4's TestRealHttp does.
      expect(lab2.some((f) => f.startsWith('labrpc/http/'))).to.equal(false);
      expect(lab4).to.include('labrpc/http/host.ts');
      for (const f of ['solutions/lab2/client.ts', 'instructor/bench/lab2.ts', 'lab3/server.ts', 'package.json'])
        expect(lab2, f).to.not.include(f);
      const folders = shippedFolders(KIT_ROOT, ['lab2']);
      expect(isShipped('reports/lab2/index.html', ['lab2'], folders)).to.equal(false);
      expect(isShipped('lab2/reports/index.html', ['lab2'], folders)).to.equal(false);
      expect(globToRegExp('lab*/test/kit/**/*.test.ts').test('lab2/test/kit/a/b.test.ts')).to.equal(true);
      expect(globToRegExp('suite/**/*.test.ts').test('suite/x.test.ts')).to.equal(true);
      expect(scrubComments("/** loads lab2/ (or solutions/lab2/). */\nconst d = 'solutions/lab3';")).to.equal(
        "/** loads lab2/ (or the reference solution). */\nconst d = 'solutions/lab3';",
      );
    });
  });
});
