/** Every lab's released student template works as its README says: `npm test` (a type-check) is green and `npm run grade labN` scores the skeleton 0. */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { linkModules } from '../batch';
import { requireSuite } from '../../grader/labs';
import { KIT_ROOT, release } from '../release';

/** The labs of the kit (every folder labN with a test suite). */
const LABS = fs
  .readdirSync(KIT_ROOT)
  .filter((d) => /^lab\d+$/.test(d) && fs.existsSync(path.join(KIT_ROOT, d, 'test', 'suite.ts')))
  .sort();

/** What a command printed and how it ended. */
interface Ran {
  status: number | null;
  out: string;
  stdout: string;
}

/** A command as a student runs it: no CI variables, no colours. */
function npm(args: string[], cwd: string): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  // npm_config_loglevel: an outer `npm run -s` would silence the script lines these tests read.
  for (const k of ['GITHUB_ACTIONS', 'GITHUB_OUTPUT', 'KVLABS_LAB_ROOT', 'CI', 'npm_config_loglevel']) delete env[k];
  return new Promise((resolve) => {
    const child = spawn('npm', args, { cwd, env, timeout: 240_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('close', (status) => resolve({ status, out: `${stdout}\n${stderr}`, stdout }));
  });
}

/** One lab's template and what its README's two commands did in it. */
interface Checked {
  tpl: string;
  test: Ran;
  grade: Ran;
}

describe('released student templates, one per lab', function () {
  this.timeout(300_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-templates-'));
  const checked = new Map<string, Checked>();
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  // Released one after another (a release reads the working tree), then checked two at a time: a template's npm
  // test and grade are child processes, so two labs keep both cores busy.
  before(async function () {
    this.timeout(900_000);
    const templates: Array<[string, string]> = [];
    for (const lab of LABS) {
      const tpl = path.join(work, lab);
      // allowDirty: the test checks the working tree as it is (the clean-tree check has its own test).
      await release({ out: tpl, labs: [lab], allowDirty: true });
      // The real `npm ci` of a template is tested once in instructor.test.ts; here the kit's packages are linked.
      linkModules(path.join(KIT_ROOT, 'node_modules'), path.join(tpl, 'node_modules'));
      templates.push([lab, tpl]);
    }
    await Promise.all(
      [0, 1].map(async (lane) => {
        for (let k = lane; k < templates.length; k += 2) {
          const [lab, tpl] = templates[k];
          const test = await npm(['test'], tpl);
          const grade = await npm(
            ['run', '--silent', 'grade', lab, '--', '--json', '--report', path.join(work, `${lab}-reports`)],
            tpl,
          );
          checked.set(lab, { tpl, test, grade });
        }
      }),
    );
  });

  it('the kit has seven labs to release', () => {
    expect(LABS).to.deep.equal(['lab1', 'lab2', 'lab3', 'lab4', 'lab5', 'lab6', 'lab7']);
  });

  for (const lab of LABS) {
    // A lab being built (LabSuite.pointsToCome) scores out of the points of the parts it has so far.
    const max = 100 - (requireSuite(path.join(KIT_ROOT, lab, 'test', 'suite.ts')).pointsToCome ?? 0);
    it(`${lab}: npm test passes in the template, and npm run grade ${lab} grades the skeleton 0/${max}`, () => {
      const { tpl, test, grade } = checked.get(lab) as Checked;
      expect(test.status, `npm test in the ${lab} template failed:\n${test.out.slice(-4000)}`).to.equal(0);
      // The kit's own tests stay with the instructors: a template's npm test type-checks the whole project.
      expect(test.out).to.contain('tsc --noEmit');
      expect(fs.existsSync(path.join(tpl, '.mocharc.json')), 'a template with no tests has no .mocharc.json').to.equal(
        false,
      );
      expect(grade.status, grade.out.slice(-4000)).to.equal(1);
      const doc = JSON.parse(grade.stdout) as { score: number; maxScore: number };
      expect([doc.score, doc.maxScore]).to.deep.equal([0, max]);
    });
  }
});
