/** The checks of the graded files before the tests: TypeScript's type errors and files that are not UTF-8. */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { formatProblem, problemsHeadline, typeProblems, typeProblemsSoon } from '../../../grader/typecheck';
import { linkModules } from '../../batch';
import { tempDir } from './helpers';

const KIT = path.resolve(__dirname, '..', '..', '..');

/** A kit root with a strict tsconfig.json and an empty graded folder, lab9. */
function newLab(): { root: string; lab: string } {
  const root = tempDir('kvlabs-types-');
  fs.writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, types: [] } }));
  const lab = path.join(root, 'lab9');
  fs.mkdirSync(lab);
  return { root, lab };
}

describe('grader: checks of the graded files', function () {
  this.timeout(60_000);

  it('finds the first byte of a file that is not UTF-8 (line, column, offset), and nothing in valid multibyte text', () => {
    const { root, lab } = newLab();
    fs.writeFileSync(path.join(lab, 'good.ts'), "export const s = 'café ☕ 𝄞 \uFFFD';\n");
    fs.writeFileSync(
      path.join(lab, 'latin1.ts'),
      Buffer.concat([
        Buffer.from("export const a = 'é';\nexport const b = 'caf"),
        Buffer.from([0xe9]),
        Buffer.from("';\n"),
      ]),
    );
    const cache = tempDir('kvlabs-types-cache-');
    const found = typeProblems(root, lab, cache);
    expect(found.map(formatProblem)).to.deep.equal([
      'lab9/latin1.ts:2:22 is not UTF-8 text (byte 0xe9 at offset 44): it is read as UTF-8, so such bytes become "\uFFFD". Save the file as UTF-8 in your editor.',
    ]);
    expect(problemsHeadline(found)).to.equal('A file is not UTF-8 text.');
    fs.rmSync(path.join(lab, 'latin1.ts'));
    fs.appendFileSync(path.join(lab, 'good.ts'), 'export const n: number = s;\n');
    const typed = typeProblems(root, lab, cache);
    expect(typed.map((p) => [p.file, p.line, p.code])).to.deep.equal([['lab9/good.ts', 2, 2322]]);
    expect(problemsHeadline([...found, ...typed, ...typed])).to.equal(
      'TypeScript finds 2 type errors in your files, and a file is not UTF-8 text.',
    );
    expect(fs.readdirSync(path.join(cache, 'typecheck')), 'each content checked once, then cached').to.have.length(2);
  });

  it('reads no file outside the graded tree: a classmate’s file imported by path is not found, its types never printed', () => {
    const { root, lab } = newLab();
    const classmate = tempDir('kvlabs-types-classmate-');
    fs.writeFileSync(path.join(classmate, 'server.ts'), "export const secretName = 'carol-secret' as const;\n");
    const spec = path.relative(lab, path.join(classmate, 'server')).split(path.sep).join('/');
    fs.writeFileSync(path.join(lab, 'spy.ts'), `import * as other from '${spec}';\nexport const x: 0 = other;\n`);
    fs.writeFileSync(path.join(lab, 'own.ts'), "export const mine = 'ok' as const;\n");
    fs.writeFileSync(path.join(lab, 'use.ts'), "import { mine } from './own';\nexport const y: 0 = mine;\n");
    const found = typeProblems(root, lab, tempDir('kvlabs-types-cache-'));
    const text = found.map(formatProblem).join('\n');
    expect(found.map((p) => [p.file, p.code])).to.deep.equal([
      ['lab9/spy.ts', 2307],
      ['lab9/use.ts', 2322],
    ]);
    expect(text).to.not.contain('carol-secret');
    expect(text, 'a file of the tree is read as before').to.contain('"ok"');
  });

  it('still reads the packages’ types where node_modules holds links to them (as batch grading makes it)', () => {
    const { root, lab } = newLab();
    fs.writeFileSync(
      path.join(root, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, types: ['node'] } }),
    );
    linkModules(path.join(KIT, 'node_modules'), path.join(root, 'node_modules'));
    fs.writeFileSync(path.join(lab, 'bytes.ts'), "export const n: number = Buffer.byteLength('é');\n");
    expect(typeProblems(root, lab, tempDir('kvlabs-types-cache-'))).to.deep.equal([]);
  });

  it('checks in a worker thread while the tests start, with the same verdict, and caches it', async () => {
    const { root, lab } = newLab();
    fs.writeFileSync(path.join(lab, 'good.ts'), "export const s = 'ok';\nexport const m: string = 1;\n");
    const cache = tempDir('kvlabs-types-cache-');
    const soon = await typeProblemsSoon(root, lab, cache);
    expect(soon.map((p) => [p.file, p.line, p.code])).to.deep.equal([['lab9/good.ts', 2, 2322]]);
    expect(fs.readdirSync(path.join(cache, 'typecheck')), 'the thread wrote the cache').to.have.length(1);
    expect(typeProblems(root, lab, tempDir('kvlabs-types-cache-'))).to.deep.equal(soon);
    expect(await typeProblemsSoon(root, lab, cache), 'then read from the cache').to.deep.equal(soon);
  });
});
