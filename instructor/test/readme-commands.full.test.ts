/** Every fenced command of the top-level README runs: a short one as written, a long one through its --help form, which must list every option it uses (instructor/readme-commands.ts). */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fencedCommands, npm, runProblems, type Ran } from '../readme-commands';

// The kit's root: mocha runs from it.
const ROOT = process.cwd();

describe('the top-level README’s fenced commands, run', function () {
  this.timeout(300_000);

  it('run as written, or through their --help form with every option they use', async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const helps = new Map<string, Promise<Ran>>();
    const help = (script: string, sub: readonly string[]): Promise<Ran> => {
      const key = [script, ...sub].join(' ');
      if (!helps.has(key)) helps.set(key, npm(ROOT, ['run', '-s', script, '--', ...sub, '--help']));
      return helps.get(key)!;
    };
    const checked = await Promise.all(
      fencedCommands(readme).map(async (c) => ({ c, problems: await runProblems(ROOT, c.text, help) })),
    );
    const wrong = checked
      .filter(({ problems }) => problems.length > 0)
      .map(({ c, problems }) => `README.md:${c.line}: ${c.text}\n  ${problems.join('\n  ')}`);
    expect(wrong, wrong.join('\n')).to.deep.equal([]);
  });
});
