/** The released lab 2 template for real: a real `npm ci` then its type-check and grades, and its Classroom workflow's steps run in a fresh copy holding a partly correct lab 2 (minutes of work, so in npm run test:full). */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mutants } from '../../solutions/lab2/mutants';
import { copyTemplate, putSolution } from '../class';
import { release } from '../release';
import { POINTS_COMMAND } from '../workflow';
import { runPointsStep } from './grader/points-step';
import {
  LAB2_FILES,
  LAB2_TESTS,
  RUBRIC,
  linkTemplateModules,
  localEnv,
  run,
  stepsOf,
  workflowOf,
} from './template-run';

type Payload = {
  max_score: number;
  status: string;
  tests: Array<{ name: string; score: number; status: string; message: string | null; test_code: string }>;
};
/** The points step's environment after GitHub evaluates each `${{ steps.<id>.outputs.<key> || '<fallback>' }}` with these step outputs. */
const evaluatedEnv = (
  env: Record<string, string>,
  outputs: Record<string, Record<string, string>>,
): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env).map(([key, expr]) => {
      if (key === 'RUNNERS') return [key, expr];
      const m = /^\$\{\{\s*steps\.([\w-]+)\.outputs\.(\w+)\s*\|\|\s*'([A-Za-z0-9+/=]+)'\s*\}\}$/.exec(expr);
      if (!m) throw new Error(`unexpected points step input: ${expr}`);
      return [key, outputs[m[1]]?.[m[2]] || m[3]];
    }),
  );
const payloadsOf = (env: Record<string, string>): Payload[] =>
  Object.entries(env)
    .filter(([key]) => key !== 'RUNNERS')
    .map(([, b64]) => JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as Payload);

describe('the released lab 2 template, run for real', function () {
  this.timeout(240_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-template-run-'));
  const tpl = path.join(work, 'template');
  const lab2Tests = LAB2_TESTS;

  before(async function () {
    this.timeout(60_000);
    // allowDirty: these tests check the working tree as it is, committed or not (the clean-tree check has its own test).
    await release({ out: tpl, labs: ['lab2'], allowDirty: true });
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('after a real `npm ci` the template type-checks, `npm run grade lab2` scores 0, and --solution explains there are none', function () {
    this.timeout(240_000);
    const ci = run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], tpl, localEnv(), 200_000);
    expect(ci.status, ci.stderr).to.equal(0);
    const tc = run('npm', ['run', 'typecheck'], tpl);
    expect(tc.status, tc.stdout + tc.stderr).to.equal(0);
    const g = run(
      'npm',
      ['run', '--silent', 'grade', 'lab2', '--', '--json', '--report', path.join(work, 'skeleton-reports')],
      tpl,
    );
    expect(g.status, g.stderr).to.equal(1);
    const doc = JSON.parse(g.stdout) as { score: number; maxScore: number; labs: Array<{ tests: unknown[] }> };
    expect([doc.score, doc.maxScore, doc.labs[0].tests.length]).to.deep.equal([
      0,
      100,
      Object.keys(RUBRIC.tests).length,
    ]);
    expect(g.stderr).not.to.contain('Warning:');
    const sol = run('npm', ['run', '--silent', 'grade', 'lab2', '--', '--solution'], tpl);
    expect(sol.status).to.equal(2);
    expect(sol.stderr).to.contain('the student template has no reference solution').and.contain('npm run grade lab2');
  });

  it('its steps, run in a fresh copy holding a partly correct lab 2, give per-test payloads, a points step whose log, notices and job summary agree on the score, and each failure’s message', function () {
    this.timeout(180_000);
    const copy = path.join(work, 'classroom');
    copyTemplate(tpl, copy);
    linkTemplateModules(copy, tpl);
    const mutant = mutants.find((m) => m.name === 'version-off-by-one');
    if (!mutant) throw new Error('lab 2 has no version-off-by-one mutant any more; pick another that fails some tests');
    putSolution(copy, 'lab2', LAB2_FILES, mutant);
    const outputs: Record<string, Record<string, string>> = {};
    let pointsEnv: Record<string, string> | undefined;
    const summary = path.join(work, 'step-summary.md');
    fs.writeFileSync(summary, '');
    for (const step of stepsOf(workflowOf(tpl))) {
      if (step.run === POINTS_COMMAND) pointsEnv = step.env;
      if (step.run === undefined || step.run === POINTS_COMMAND) continue; // the points step runs below, once the outputs are known
      if (step.run === 'npm ci') continue; // run for real above; here the installed packages are linked
      const outFile = path.join(work, `output-${step.id ?? 'step'}`);
      fs.writeFileSync(outFile, '');
      const r = run(
        'bash',
        ['-c', step.run],
        copy,
        localEnv({ GITHUB_OUTPUT: outFile, GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: 'true', CI: 'true' }),
        170_000,
      );
      expect(r.status, `${step.name}: ${r.stderr}`).to.be.oneOf([0, 1]);
      if (step.id)
        outputs[step.id] = Object.fromEntries(
          fs
            .readFileSync(outFile, 'utf8')
            .split('\n')
            .filter((l) => l.includes('='))
            .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        );
    }
    const env = evaluatedEnv(pointsEnv ?? {}, outputs);
    const payloads = payloadsOf(env);
    expect(payloads.map((p) => [p.tests[0].name, p.max_score])).to.deep.equal(lab2Tests.map((t) => [t.name, t.points]));
    const failed = payloads.filter((p) => p.status === 'fail');
    expect(failed.length, 'the mutant fails some tests, not all').to.be.within(1, payloads.length - 1);
    const score = payloads.reduce((a, p) => a + p.tests[0].score, 0);
    expect(score).to.be.within(1, 99);
    const step = runPointsStep(env, copy);
    expect(step.code, 'a test failed: the points step fails').to.equal(1);
    expect(step.commands, 'the notices GitHub Classroom reads the points from').to.deep.equal([
      `::notice title=Autograding complete::Points ${score}/100`,
      `::notice title=Autograding report::{"totalPoints":${score},"maxPoints":100}`,
    ]);
    expect(step.log).to.match(new RegExp(`^total\\s+${score}\\s+100$`, 'm'));
    const text = fs.readFileSync(summary, 'utf8');
    expect(text, 'the job summary agrees with the points Classroom records').to.contain(`**Score: ${score}/100**`);
    for (const p of failed) {
      expect(text, p.tests[0].name).to.contain(`### ${p.tests[0].name}`);
      expect(p.tests[0].message, 'the failure says what happened').to.be.a('string').and.not.equal('');
      expect(step.log, 'the points step prints the failure’s message in the student’s log').to.contain(
        `❌ ${p.tests[0].name} failed`,
      );
    }
    expect(text).to.contain('npm run grade lab2 -- --test');

    const nothing = evaluatedEnv(pointsEnv ?? {}, {});
    expect(payloadsOf(nothing).map((p) => [p.status, p.tests[0].score])).to.deep.equal(
      lab2Tests.map(() => ['error', 0]),
      'npm ci failed: every runner still has a payload',
    );
    const none = runPointsStep(nothing, copy);
    expect(none.log).to.contain('Grade lab2');
    expect(none.commands[0]).to.equal('::notice title=Autograding complete::Points 0/100');
  });
});
