/** `npm run demo`: its help, its refusal of a lab without a demo, and lab 2's walk through the API. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';

// The kit's root: mocha runs from it. (Not __dirname: on node 24+ mocha may load a test file with no relative import as an ES module.)
const ROOT = process.cwd();
const demo = (...args: string[]) =>
  spawnSync(process.execPath, ['-r', './grader/register.js', 'instructor/demo.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  });

describe('npm run demo', function () {
  this.timeout(120_000);

  it('explains itself with --help (exit 0), refuses a lab without a demo naming the one there is (exit 2), and walks through lab 2', () => {
    const help = demo('--help');
    expect([help.status, help.stdout]).to.satisfy(
      ([s, out]: [number, string]) => s === 0 && out.includes('Usage: npm run demo -- [options] <lab>'),
    );
    const other = demo('lab3');
    expect(other.status).to.equal(2);
    expect(other.stderr).to.contain('There is a demo for lab2 only (got "lab3")');
    const lab2 = demo('lab2');
    expect(lab2.status, lab2.stderr).to.equal(0);
    expect(lab2.stdout)
      .to.contain('acquired the lock')
      .and.match(/Done: \d+ RPCs/);
  });
});
