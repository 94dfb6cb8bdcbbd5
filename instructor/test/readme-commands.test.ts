/** The top-level README: at most 250 lines, names every npm script, and every fenced command names a script, lab and tests the kit has (instructor/readme-commands.ts says how each is checked). */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fencedCommands, fencedProblems, scriptCall, unknownOptions, type PackageJson } from '../readme-commands';

// The kit's root: mocha runs from it.
const ROOT = process.cwd();

describe('the top-level README', function () {
  this.timeout(60_000);
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;

  it('finds the commands of fenced shell blocks without their comments, the script each runs, and options a help lacks', () => {
    const md = [
      'text',
      '```bash',
      'npm ci        # install',
      '# a comment',
      '',
      'npm run grade lab2 -- --test T',
      '```',
      '`npm run x`',
      '```ts',
      'const a = 1;',
      '```',
    ].join('\n');
    expect(fencedCommands(md)).to.deep.equal([
      { line: 3, text: 'npm ci' },
      { line: 6, text: 'npm run grade lab2 -- --test T' },
    ]);
    expect(scriptCall('npm run grade lab2 -- --test T')).to.deep.equal({
      script: 'grade',
      args: ['lab2', '--test', 'T'],
    });
    expect(
      unknownOptions(['lab2', '--test', 'T', '--seeds', '--per-seed'], '  --test <n>  x\n  --seed <n>\n  --per-seed'),
    ).to.deep.equal(['--seeds']);
  });

  it('is at most 250 lines', () => {
    expect(readme.trimEnd().split('\n').length).to.be.at.most(250);
  });

  it('names every npm script of package.json', () => {
    const missing = Object.keys(pkg.scripts ?? {}).filter(
      (s) => !(s === 'test' ? readme.includes('`npm test`') : new RegExp(`npm run ${s}(?![\\w:-])`).test(readme)),
    );
    expect(missing, 'scripts the README does not name').to.deep.equal([]);
  });

  it('has fenced commands that name only scripts, labs and tests the kit has, and a lockfile npm ci accepts', () => {
    const commands = fencedCommands(readme);
    expect(commands.map((c) => c.text)).to.include.members(['npm ci', 'npm test', 'npm run grade lab2']);
    const wrong = commands.flatMap((c) => {
      const problems = fencedProblems(ROOT, c.text, pkg);
      return problems.length === 0 ? [] : [`README.md:${c.line}: ${c.text}\n  ${problems.join('\n  ')}`];
    });
    expect(wrong, wrong.join('\n')).to.deep.equal([]);
  });
});
