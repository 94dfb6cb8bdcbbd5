/** `npm run verify`: solutions score 100%, untouched skeletons score 0, and the project type-checks. */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { verify } from '../../verify';
import { Collector, FIXTURES, tempDir } from './helpers';

const limits = { heapLimitMb: 96, killGraceMs: 300, env: {}, color: false } as const;

describe('grader: verify', function () {
  this.timeout(60_000);

  it('passes a lab whose solution scores 100% and whose skeleton scores 0, after one type check', async () => {
    const out = new Collector();
    const r = await verify({
      ...limits,
      root: FIXTURES.clean,
      tsconfig: path.join(FIXTURES.clean, 'tsconfig.json'),
      out,
    });
    expect(r.typecheck?.ok, r.typecheck?.output).to.equal(true);
    expect(r.labs).to.have.length(1);
    expect(r.labs[0]).to.deep.include({
      lab: 'lab9',
      solution: { score: 70, maxScore: 70 },
      skeleton: { score: 0, maxScore: 70 },
      problems: [],
    });
    expect(r.ok).to.equal(true);
    expect(out.text).to.match(/lab9 +70\/70 +0\/70 .* ok/);
    expect(out.text).to.contain('verify: everything is in order');
  });

  it('flags a skeleton that scores points or hangs, without failing itself', async () => {
    const out = new Collector();
    const r = await verify({ ...limits, root: FIXTURES.crashy, tsconfig: false, out });
    expect(r.ok).to.equal(false);
    const problems = r.labs[0].problems.join('\n');
    expect(r.labs[0].solution).to.deep.equal({ score: 70, maxScore: 70 });
    expect(problems).to.contain('the untouched skeleton passes TestBasic').and.contain('TestFinal');
    expect(problems).to.contain('TestHang ran into the real-time limit');
    expect(out.text).to.contain('verify: problems found');
  });

  it('reports a lab that is set up wrongly once, and carries on', async () => {
    const r = await verify({ ...limits, root: FIXTURES.badrubric, tsconfig: false, out: new Collector() });
    expect(r.ok).to.equal(false);
    expect(r.labs[0].problems).to.have.length(1);
    expect(r.labs[0].problems[0])
      .to.match(/^the lab: The suite .*suite\.ts has more than one test named TestFlaky/)
      .and.contain('scored(test, { points');
  });

  it('fails when the project does not type-check, showing the compiler’s errors', async () => {
    const dir = tempDir();
    // A tiny project with its own minimal lib, so the compiler starts fast.
    const globals = [
      'Array<T>',
      'Boolean',
      'CallableFunction',
      'Function',
      'IArguments',
      'NewableFunction',
      'Number',
      'Object',
      'RegExp',
      'String',
    ];
    fs.writeFileSync(path.join(dir, 'mini-lib.d.ts'), globals.map((g) => `interface ${g} {}`).join('\n'));
    fs.writeFileSync(path.join(dir, 'broken.ts'), "export const answer: number = 'forty-two';\n");
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, noLib: true, types: [] },
        files: ['mini-lib.d.ts', 'broken.ts'],
      }),
    );
    const out = new Collector();
    const r = await verify({
      ...limits,
      root: FIXTURES.clean,
      labs: [],
      tsconfig: path.join(dir, 'tsconfig.json'),
      out,
    });
    expect(r.ok).to.equal(false);
    expect(r.typecheck?.ok).to.equal(false);
    expect(r.typecheck?.output).to.contain('TS2322');
    expect(out.text).to.contain('does not type-check').and.contain('broken.ts');
  });
});
