/** The lab tools' --solution: the reference solution in the course kit, a clear refusal in the student template. */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { implFolder, NoSolutionError, REPO_ROOT } from '../solution';

describe('lab tools: which code --solution runs', () => {
  it('runs the student folder by default and the reference solution with --solution in the kit', () => {
    expect(implFolder('lab5', false)).to.equal(path.join(REPO_ROOT, 'lab5'));
    expect(implFolder('lab5', true)).to.equal(path.join(REPO_ROOT, 'solutions', 'lab5'));
    expect(fs.existsSync(path.join(implFolder('lab5', true), 'server.ts'))).to.equal(true);
  });

  it('in a template without solutions, --solution says why and what to run instead', () => {
    const template = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-template-'));
    try {
      fs.mkdirSync(path.join(template, 'lab3'));
      expect(implFolder('lab3', false, template)).to.equal(path.join(template, 'lab3'));
      expect(() => implFolder('lab3', true, template))
        .to.throw(NoSolutionError)
        .with.property('message')
        .that.contains('the student template has no reference solution')
        .and.contains('without --solution to use your lab3/ files');
    } finally {
      fs.rmSync(template, { recursive: true, force: true });
    }
  });
});
