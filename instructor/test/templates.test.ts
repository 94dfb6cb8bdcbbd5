/** Every lab's released student template works as its README says: `npm test` (a type-check) is green and `npm run grade labN` scores the skeleton 0. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { linkModules } from '../batch';
import { KIT_ROOT, release } from '../release';

/** The labs of the kit (every folder labN with a test suite). */
const LABS = fs
  .readdirSync(KIT_ROOT)
  .filter((d) => /^lab\d+$/.test(d) && fs.existsSync(path.join(KIT_ROOT, d, 'test', 'suite.ts')))
  .sort();

/** A command as a student runs it: no CI variables, no colours. */
function npm(args: string[], cwd: string): { status: number | null; out: string; stdout: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  // npm_config_loglevel: an outer `npm run -s` would silence the script lines these tests read.
  for (const k of ['GITHUB_ACTIONS', 'GITHUB_OUTPUT', 'KVLABS_LAB_ROOT', 'CI', 'npm_config_loglevel']) delete env[k];
  const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout };
}

describe('released student templates, one per lab', function () {
  this.timeout(300_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-templates-'));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('the kit has six labs to release', () => {
    expect(LABS).to.deep.equal(['lab1', 'lab2', 'lab3', 'lab4', 'lab5', 'lab6']);
  });

  for (const lab of LABS) {
    it(`${lab}: npm test passes in the template, and npm run grade ${lab} grades the skeleton 0/100`, async () => {
      const tpl = path.join(work, lab);
      // allowDirty: the test checks the working tree as it is (the clean-tree check has its own test).
      await release({ out: tpl, labs: [lab], allowDirty: true });
      // The real `npm ci` of a template is tested once in instructor.test.ts; here the kit's packages are linked.
      linkModules(path.join(KIT_ROOT, 'node_modules'), path.join(tpl, 'node_modules'));
      const test = npm(['test'], tpl);
      expect(test.status, `npm test in the ${lab} template failed:\n${test.out.slice(-4000)}`).to.equal(0);
      // The kit's own tests stay with the instructors: a template's npm test type-checks the whole project.
      expect(test.out).to.contain('tsc --noEmit');
      expect(fs.existsSync(path.join(tpl, '.mocharc.json')), 'a template with no tests has no .mocharc.json').to.equal(
        false,
      );
      const grade = npm(
        ['run', '--silent', 'grade', lab, '--', '--json', '--report', path.join(work, `${lab}-reports`)],
        tpl,
      );
      expect(grade.status, grade.out.slice(-4000)).to.equal(1);
      const doc = JSON.parse(grade.stdout) as { score: number; maxScore: number };
      expect([doc.score, doc.maxScore]).to.deep.equal([0, 100]);
    });
  }
});
